"""The dbos_django side of the messaging benchmarks (the receiving worker is ``manage.py dbos_worker``).

    messaging_django.py setup      --name DB                  # migrate
    messaging_django.py latency    --name DB --n 200          # a dbos_worker must serve the bench-messages queue
    messaging_django.py throughput --name DB --n 500          # one launched process starts, sends and awaits

latency: this process has no runtime; it enqueues ``receive_time(i)`` (run by the worker), waits until
that workflow sleeps in recv, and sends it ``i``. throughput: ``DBOS.launch()`` here, then for each i
``DBOS.start_workflow(receive_one, i)`` and ``DBOS.send(its id, i, "t")``, then every result.
Results are one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import benchlib
import messaginglib


def setup_django(args: argparse.Namespace) -> None:
    os.environ["BENCH_DB"] = "postgres"
    os.environ["BENCH_DB_NAME"] = args.name
    os.environ["DJANGO_SETTINGS_MODULE"] = "messaging_settings"
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


def send(workflow_id: str, i: int) -> None:
    from dbos_django import DBOS

    DBOS.send(workflow_id, i, messaginglib.TOPIC)


def latency(args: argparse.Namespace) -> dict[str, Any]:
    from benchmsg.workflows import idle_wait, queue, receive_time

    from dbos_django import WorkflowHandle

    def result(handle: WorkflowHandle[dict[str, float]]) -> dict[str, float]:
        return handle.get_result(polling_interval_sec=0.05)

    calls = messaginglib.Calls(start=lambda i: queue.enqueue(receive_time, i), send=send, result=result,
                               start_idle=lambda i: queue.enqueue(idle_wait, i))  # fmt: skip
    probe = messaginglib.ReadyProbe("django", args.name)
    try:
        return messaginglib.measure_latency(calls, probe, args.n, args.warmup, args.idle)
    finally:
        probe.close()


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    from benchmsg.workflows import receive_one

    from dbos_django import DBOS

    calls = messaginglib.Calls(start=lambda i: DBOS.start_workflow(receive_one, i), send=send,
                               result=lambda handle: handle.get_result())  # fmt: skip
    DBOS.launch()
    try:
        return messaginglib.measure_throughput(calls, args.name, args.n, args.warmup, profile=args.profile)
    finally:
        DBOS.destroy()


def main() -> None:
    args = messaginglib.parse_args(__doc__ or "", ("setup", "latency", "throughput"))
    benchlib.create_pg_database(args.name, fresh=False)
    setup_django(args)
    if args.role == "setup":
        migrate()
    elif args.role == "latency":
        messaginglib.emit(latency(args))
    else:
        messaginglib.emit(throughput(args))


if __name__ == "__main__":
    main()
