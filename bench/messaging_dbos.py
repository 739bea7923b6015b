"""The DBOS 3.4 side of the messaging benchmarks.

    messaging_dbos.py setup      --name DB                    # create and migrate the system database
    messaging_dbos.py worker     --name DB --polling 0.05     # serve the bench-messages queue until killed
    messaging_dbos.py latency    --name DB --n 200            # a worker must run
    messaging_dbos.py throughput --name DB --n 500            # one launched process starts, sends and awaits

DBOS's notification settings are its defaults: ``use_listen_notify`` True (a LISTEN connection wakes
a waiting ``recv``), ``notification_listener_polling_interval_sec`` 1.0, ``max_executor_threads``
unset. The latency part starts its workflows through a queue (``DBOS.register_queue``, as DBOS 3.4
refuses ``Queue(...)``) polled every ``--polling`` seconds: that only decides how soon a workflow
starts, which is outside the measured time. The sending process launches with
``DBOS.listen_queues([])``, so that it never dequeues.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import benchlib
import messaginglib

Workflows = dict[str, Callable[[int], Any]]


def start_dbos(args: argparse.Namespace, *, dequeue: bool) -> Workflows:
    """Configure DBOS, register the workflows, launch; a process that does not ``dequeue`` serves no queue."""
    from dbos import DBOS, DBOSConfig

    config: DBOSConfig = {"name": "bench", "system_database_url": benchlib.pg_url(args.name), "log_level": "WARNING",
                          "executor_id": f"bench-{args.role}-{os.getpid()}",
                          "application_version": "bench-messages"}  # fmt: skip
    DBOS(config=config)
    workflows = register_workflows()
    if not dequeue:
        DBOS.listen_queues([])
    DBOS.launch()
    logging.getLogger("dbos").setLevel(logging.WARNING)
    return workflows


def register_workflows() -> Workflows:
    from dbos import DBOS

    @DBOS.workflow()
    def receive_time(i: int) -> dict[str, float]:
        message = DBOS.recv(messaginglib.TOPIC, timeout_seconds=messaginglib.RECV_TIMEOUT)
        return {"message": message, "received_at": time.time()}

    @DBOS.workflow()
    def idle_wait(i: int) -> object:
        return DBOS.recv(messaginglib.IDLE_TOPIC, timeout_seconds=messaginglib.IDLE_TIMEOUT)

    @DBOS.workflow()
    def receive_one(i: int) -> int:
        return DBOS.recv(messaginglib.TOPIC, timeout_seconds=messaginglib.RECV_TIMEOUT)

    return {"receive_time": receive_time, "idle_wait": idle_wait, "receive_one": receive_one}


def register_queue(args: argparse.Namespace) -> Any:
    from dbos import DBOS

    return DBOS.register_queue(messaginglib.QUEUE_NAME, polling_interval_sec=args.polling, on_conflict="always_update")


def send(workflow_id: str, i: int) -> None:
    from dbos import DBOS

    DBOS.send(workflow_id, i, messaginglib.TOPIC)


def work(args: argparse.Namespace) -> None:
    """Serve the queue until killed."""
    start_dbos(args, dequeue=True)
    register_queue(args)
    while True:
        time.sleep(1)


def latency(args: argparse.Namespace) -> dict[str, Any]:
    workflows = start_dbos(args, dequeue=False)
    queue = register_queue(args)
    calls = messaginglib.Calls(start=lambda i: queue.enqueue(workflows["receive_time"], i), send=send,
                               result=lambda handle: handle.get_result(polling_interval_sec=0.05),
                               start_idle=lambda i: queue.enqueue(workflows["idle_wait"], i))  # fmt: skip
    probe = messaginglib.ReadyProbe("dbos", args.name)
    try:
        return messaginglib.measure_latency(calls, probe, args.n, args.warmup, args.idle)
    finally:
        probe.close()


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    from dbos import DBOS

    workflows = start_dbos(args, dequeue=True)
    calls = messaginglib.Calls(start=lambda i: DBOS.start_workflow(workflows["receive_one"], i), send=send,
                               result=lambda handle: handle.get_result())  # fmt: skip
    return messaginglib.measure_throughput(calls, args.name, args.n, args.warmup, profile=args.profile)


def main() -> None:
    args = messaginglib.parse_args(__doc__ or "", ("setup", "worker", "latency", "throughput"))
    benchlib.create_pg_database(args.name, fresh=False)
    from dbos import DBOS

    try:
        if args.role == "setup":
            start_dbos(args, dequeue=False)
        elif args.role == "worker":
            work(args)
        elif args.role == "latency":
            messaginglib.emit(latency(args))
        else:
            messaginglib.emit(throughput(args))
    finally:
        DBOS.destroy()


if __name__ == "__main__":
    main()
