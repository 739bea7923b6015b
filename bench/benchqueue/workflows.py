"""The queue and the workflows of the queue benchmarks (``bench/queue_bench.py``).

``DBOS.launch()`` (hence ``manage.py dbos_worker``) autodiscovers this module, so the enqueuing
process and every worker register the same workflows. ``BENCH_QUEUE_POLLING`` sets the queue's
polling interval (seconds; dbos_django's and DBOS's default is 1.0).
"""

from __future__ import annotations

import os
import time

from dbos_django import DBOS, Queue

QUEUE_NAME = "bench-queue"
POLLING_ENV = "BENCH_QUEUE_POLLING"

queue = Queue(QUEUE_NAME, polling_interval_sec=float(os.environ.get(POLLING_ENV, "1.0")))


@DBOS.step()
def inc(x: int) -> int:
    return x + 1


@DBOS.workflow()
def three_steps(x: int) -> int:
    """The throughput and memory workload: three trivial steps."""
    return inc(inc(inc(x)))


@DBOS.workflow()
def start_time(x: int) -> float:
    """The latency workload: when did the body start (``time.time()``, the machine's clock)?"""
    return time.time()
