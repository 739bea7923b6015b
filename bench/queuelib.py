"""What the two sides of the queue benchmarks share: arguments, the latency loop, JSON output.

``queue_django.py`` (dbos_django) and ``queue_dbos.py`` (DBOS 3.4) each enqueue workflows, and
``queue_dbos.py`` also runs DBOS worker processes; dbos_django's workers are
``manage.py dbos_worker``. ``queue_bench.py`` drives them and measures.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import benchlib

QUEUE_NAME = "bench-queue"
#: One database per framework, cloned from a migrated template before every run (PostgreSQL).
PG_NAMES = {"django": "bench_queue_dbos_django", "dbos": "bench_queue_dbos"}
#: Workflows enqueued per batch (dbos_django: one transaction per batch) and threads enqueuing (DBOS).
ENQUEUE_BATCH = 500
ENQUEUE_THREADS = 8


def parse_args(description: str, roles: Iterable[str]) -> argparse.Namespace:
    """The command line of ``queue_django.py`` and ``queue_dbos.py``: a role, then its options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("role", choices=list(roles))
    parser.add_argument("--db", choices=benchlib.DATABASES, default="postgres")
    parser.add_argument("--name", required=True, help="PostgreSQL database name, or SQLite file path")
    parser.add_argument("--n", type=int, default=2000, help="workflows to enqueue (or latency samples)")
    parser.add_argument("--warmup", type=int, default=3, help="latency: workflows run (and awaited) first")
    parser.add_argument("--spacing", type=float, default=0.05, help="latency: mean seconds between two enqueues")
    parser.add_argument("--polling", type=float, default=1.0, help="the queue's polling_interval_sec")
    parser.add_argument("--worker-concurrency", type=int, help="DBOS: the queue's worker_concurrency (default: none)")
    parser.add_argument("--index", type=int, default=0, help="worker: its number (for its executor id)")
    parser.add_argument("--until-drained", action="store_true",
                        help="worker: exit once no workflow of the queue is ENQUEUED or PENDING")  # fmt: skip
    return parser.parse_args()


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def enqueue_concurrently(enqueue_one: Callable[[int], object], n: int) -> float:
    """Enqueue workflows 0..n-1 from ``ENQUEUE_THREADS`` threads; return the seconds it took."""
    began = time.perf_counter()
    with ThreadPoolExecutor(ENQUEUE_THREADS) as pool:
        for _ in pool.map(enqueue_one, range(n), chunksize=50):
            pass
    return time.perf_counter() - began


def measure_latency(enqueue: Callable[[int], Any], result: Callable[[Any], float], args: argparse.Namespace,
                    warm: Callable[[Any], object]) -> dict[str, Any]:  # fmt: skip
    """Enqueue ``args.n`` start-time workflows one at a time, spaced by ``args.spacing`` on average (jittered,
    so arrivals do not lock onto a poll's phase); return the enqueue-to-start latencies in ms.

    Latency is the body's ``time.time()`` minus the ``time.time()`` just before the enqueue call (it
    includes the enqueue's own commit); ``enqueue_ms`` is the duration of the enqueue call.
    """
    for i in range(args.warmup):
        warm(enqueue(-1 - i))  # the worker is up and serving the queue
    sent: list[tuple[float, float, Any]] = []
    for i in range(args.n):
        t0 = time.time()
        handle = enqueue(i)
        sent.append((t0, time.time(), handle))
        time.sleep(args.spacing * random.uniform(0.5, 1.5))
    latencies = [(result(handle) - t0) * 1000 for t0, _, handle in sent]
    return {"latency_ms": [round(v, 3) for v in latencies],
            "enqueue_ms": [round((t1 - t0) * 1000, 3) for t0, t1, _ in sent]}  # fmt: skip
