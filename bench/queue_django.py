"""The dbos_django side of the queue benchmarks (its workers are ``manage.py dbos_worker``).

    queue_django.py setup   --db postgres --name DB          # migrate
    queue_django.py enqueue --db postgres --name DB --n 2000 # three_steps(0..n-1), 500 per transaction
    queue_django.py latency --db sqlite --name FILE --n 200  # one start_time workflow at a time; a worker must run

Nothing here launches the runtime: enqueueing needs only the ORM, so this process never runs
queued work itself. Results are one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import queuelib


def setup_django(args: argparse.Namespace) -> None:
    os.environ["BENCH_DB"] = args.db
    os.environ["BENCH_DB_NAME"] = args.name
    os.environ["DJANGO_SETTINGS_MODULE"] = "queue_settings"
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


def enqueue(n: int) -> float:
    """Enqueue ``three_steps(i)`` for i < n, ``ENQUEUE_BATCH`` rows per transaction; return the seconds taken."""
    from benchqueue.workflows import queue, three_steps
    from django.db import transaction

    began = time.perf_counter()
    for first in range(0, n, queuelib.ENQUEUE_BATCH):
        with transaction.atomic():
            for i in range(first, min(n, first + queuelib.ENQUEUE_BATCH)):
                queue.enqueue(three_steps, i)
    return time.perf_counter() - began


def latency(args: argparse.Namespace) -> dict[str, Any]:
    from benchqueue.workflows import queue, start_time

    from dbos_django import WorkflowHandle

    def result(handle: WorkflowHandle[float]) -> float:
        return handle.get_result(polling_interval_sec=0.05)

    return queuelib.measure_latency(lambda i: queue.enqueue(start_time, i), result, args, warm=result)


def main() -> None:
    args = queuelib.parse_args(__doc__ or "", ("setup", "enqueue", "latency"))
    setup_django(args)
    if args.role == "setup":
        migrate()
    elif args.role == "enqueue":
        queuelib.emit({"enqueued": args.n, "enqueue_seconds": round(enqueue(args.n), 3)})
    else:
        queuelib.emit(latency(args))


if __name__ == "__main__":
    main()
