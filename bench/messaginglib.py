"""What the two sides of the messaging benchmarks share: arguments, the latency and throughput loops, JSON output.

``messaging_django.py`` (dbos_django) and ``messaging_dbos.py`` (DBOS 3.4) each provide the
framework's calls (enqueue or start a workflow, send, read a result, "is it waiting in recv?");
the loops below are the same for both. ``messaging_bench.py`` drives them.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import benchlib
import psycopg

QUEUE_NAME = "bench-messages"
TOPIC = "t"
RECV_TIMEOUT = 60.0
#: ``--idle``: workflows that wait in ``recv`` on another topic during the whole latency run.
IDLE_TOPIC = "idle"
IDLE_TIMEOUT = 600.0
#: One database per framework, cloned from a migrated template before every run.
PG_NAMES = {"django": "bench_msg_dbos_django", "dbos": "bench_msg_dbos"}
#: The checkpoint of ``recv``'s timeout (a ``DBOS.sleep`` step): once it is there, the workflow is in ``recv``.
READY_SQL = {
    "django": "SELECT 1 FROM dbos_step_output WHERE workflow_id = %s AND function_name = 'DBOS.sleep'",
    "dbos": "SELECT 1 FROM dbos.operation_outputs WHERE workflow_uuid = %s AND function_name = 'DBOS.sleep'",
}
#: Latency: after the checkpoint is visible, wait this long (uniformly drawn, seconds) before sending, so that
#: the workflow has done its first look for a message and sleeps in ``recv``.
SETTLE_SECONDS = (0.01, 0.03)
READY_POLL_SECONDS = 0.002
READY_TIMEOUT_SECONDS = 120.0  # the first workflow also waits for the worker process to start


def parse_args(description: str, roles: Iterable[str]) -> argparse.Namespace:
    """The command line of ``messaging_django.py`` and ``messaging_dbos.py``: a role, then its options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("role", choices=list(roles))
    parser.add_argument("--name", required=True, help="PostgreSQL database name")
    parser.add_argument("--n", type=int, default=500, help="workflows (throughput) or messages (latency)")
    parser.add_argument("--warmup", type=int, default=20, help="workflows (or messages) before measuring")
    parser.add_argument("--polling", type=float, default=0.05, help="DBOS: the queue's polling_interval_sec (latency)")
    parser.add_argument("--idle", type=int, default=0, help="latency: other workflows waiting in recv meanwhile")
    parser.add_argument("--profile", action="store_true", help="throughput: cProfile the measured batch (to stderr)")
    return parser.parse_args()


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


@dataclass(frozen=True, slots=True)
class Calls:
    """A framework's side of a benchmark. ``start`` returns a handle (``get_workflow_id()``), ``result`` its value;
    ``start_idle`` (latency) starts a workflow that waits in recv on ``IDLE_TOPIC``."""

    start: Callable[[int], Any]
    send: Callable[[str, int], None]
    result: Callable[[Any], Any]
    start_idle: Callable[[int], Any] | None = None


# Latency


class ReadyProbe:
    """Is a workflow waiting in ``recv`` yet? Read on a connection of our own (autocommit)."""

    def __init__(self, framework: str, name: str) -> None:
        self.sql = READY_SQL[framework]
        self.conn = psycopg.connect(benchlib.pg_url(name), autocommit=True)

    def wait(self, workflow_id: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while self.conn.execute(self.sql, (workflow_id,)).fetchone() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"workflow {workflow_id} did not reach recv in {READY_TIMEOUT_SECONDS:g} s")
            time.sleep(READY_POLL_SECONDS)

    def close(self) -> None:
        self.conn.close()


def _send_to_waiting(calls: Calls, probe: ReadyProbe, i: int) -> tuple[float, float, Any]:
    """Start workflow i (in the worker), wait until it sleeps in recv, send it ``i``; return (t0, t1, handle)."""
    handle = calls.start(i)
    workflow_id = handle.get_workflow_id()
    probe.wait(workflow_id)
    time.sleep(random.uniform(*SETTLE_SECONDS))
    t0 = time.time()
    calls.send(workflow_id, i)
    return t0, time.time(), handle


def start_idle(calls: Calls, probe: ReadyProbe, count: int) -> None:
    """Start ``count`` workflows that wait in recv (on another topic) all along; return once all of them wait."""
    if count and calls.start_idle is None:
        raise ValueError("this framework's side has no idle workflow")
    handles = [calls.start_idle(i) for i in range(count)] if calls.start_idle else []
    for handle in handles:
        probe.wait(handle.get_workflow_id())


def measure_latency(calls: Calls, probe: ReadyProbe, n: int, warmup: int, idle: int = 0) -> dict[str, Any]:
    """Send ``n`` messages, one at a time, each to a workflow already waiting in ``recv`` in another process
    (where ``idle`` other workflows wait too).

    Latency = the ``time.time()`` the workflow took when ``recv`` returned − the ``time.time()`` just
    before the send call (so it includes the send's commit; ``send_ms`` is the send call's duration).
    """
    start_idle(calls, probe, idle)
    sent = [_send_to_waiting(calls, probe, i) for i in range(-warmup, n)]
    latencies, send_ms = [], []
    for i, (t0, t1, handle) in zip(range(-warmup, n), sent, strict=True):
        value = calls.result(handle)
        if value["message"] != i:
            raise AssertionError(f"workflow {i} received {value['message']!r}")
        if i >= 0:
            latencies.append(round((value["received_at"] - t0) * 1000, 3))
            send_ms.append(round((t1 - t0) * 1000, 3))
    return {"latency_ms": latencies, "send_ms": send_ms}


# Throughput


def run_batch(calls: Calls, ids: range) -> None:
    """Start workflow i and send it ``i`` (it calls recv), for every i; then wait for every result."""
    handles = []
    for i in ids:
        handle = calls.start(i)
        calls.send(handle.get_workflow_id(), i)
        handles.append(handle)
    for i, handle in zip(ids, handles, strict=True):
        value = calls.result(handle)
        if value != i:
            raise AssertionError(f"workflow {i} received {value!r}")


def measure_throughput(calls: Calls, name: str, n: int, warmup: int, *, profile: bool = False) -> dict[str, Any]:
    """Time one batch of ``n`` workflows after a warm-up batch; count the write transactions (xids) it used."""
    run_batch(calls, range(-warmup, 0))
    counter = benchlib.XidCounter(name)
    try:
        before = counter.read()
        with benchlib.profiled(profile):
            began = time.perf_counter()
            run_batch(calls, range(n))
            seconds = time.perf_counter() - began
        xids = counter.read() - before - 1
    finally:
        counter.close()
    return {"n": n, "seconds": round(seconds, 4), "workflows_per_second": round(n / seconds, 1),
            "write_txns_per_workflow": round(xids / n, 2)}  # fmt: skip
