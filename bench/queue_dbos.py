"""The DBOS 3.4 side of the queue benchmarks: enqueue, and DBOS worker processes.

    queue_dbos.py setup   --db postgres --name DB                        # create and migrate the system database
    queue_dbos.py enqueue --db postgres --name DB --n 2000 --polling 1.0  # three_steps(0..n-1), from 8 threads
    queue_dbos.py worker  --db postgres --name DB --polling 1.0 --index 0 --until-drained
    queue_dbos.py latency --db postgres --name DB --n 200 --polling 0.01  # a worker must run

Queues are declared with ``DBOS.register_queue`` (DBOS 3.4 refuses ``Queue(...)``), which needs a
launched DBOS: the enqueuing process launches with ``DBOS.listen_queues([])`` so that it never
dequeues. Each process has its own executor id: at launch DBOS recovers the PENDING workflows
of its executor id, and the default id ("local") would make a second worker re-run the first's.
The queue has DBOS's defaults otherwise: no worker concurrency limit, an unbounded thread pool.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import benchlib
import psycopg
import queuelib

Workflows = dict[str, Callable[[int], Any]]


def database_url(args: argparse.Namespace) -> str:
    return benchlib.pg_url(args.name) if args.db == "postgres" else f"sqlite:///{args.name}"


def start_dbos(args: argparse.Namespace, *, dequeue: bool) -> Workflows:
    """Configure DBOS, register the workflows, launch; a process that does not ``dequeue`` serves no queue."""
    from dbos import DBOS, DBOSConfig

    config: DBOSConfig = {"name": "bench", "system_database_url": database_url(args), "log_level": "WARNING",
                          "executor_id": f"bench-{args.role}-{args.index}-{os.getpid()}",
                          "application_version": "bench-queue"}  # fmt: skip
    DBOS(config=config)
    workflows = register_workflows()
    if not dequeue:
        DBOS.listen_queues([])
    DBOS.launch()
    logging.getLogger("dbos").setLevel(logging.WARNING)
    return workflows


def register_workflows() -> Workflows:
    from dbos import DBOS

    @DBOS.step()
    def inc(x: int) -> int:
        return x + 1

    @DBOS.workflow()
    def three_steps(x: int) -> int:
        return inc(inc(inc(x)))

    @DBOS.workflow()
    def start_time(x: int) -> float:
        return time.time()

    return {"three_steps": three_steps, "start_time": start_time}


def register_queue(args: argparse.Namespace) -> Any:
    from dbos import DBOS

    return DBOS.register_queue(queuelib.QUEUE_NAME, polling_interval_sec=args.polling,
                               worker_concurrency=args.worker_concurrency, on_conflict="always_update")  # fmt: skip


_UNFINISHED = "SELECT COUNT(*) FROM {table} WHERE queue_name = {mark} AND status IN ('ENQUEUED', 'PENDING')"


def unfinished_counter(args: argparse.Namespace) -> Callable[[], int]:
    """How many workflows of the queue are still ENQUEUED or PENDING (read on one connection of our own)."""
    if args.db == "postgres":
        pg = psycopg.connect(benchlib.pg_url(args.name), autocommit=True)
        sql = _UNFINISHED.format(table="dbos.workflow_status", mark="%s")
        return lambda: int(pg.execute(sql, (queuelib.QUEUE_NAME,)).fetchone()[0])  # type: ignore[index]
    lite = sqlite3.connect(args.name, timeout=20, isolation_level=None)
    sql = _UNFINISHED.format(table="workflow_status", mark="?")
    return lambda: int(lite.execute(sql, (queuelib.QUEUE_NAME,)).fetchone()[0])


def work(args: argparse.Namespace) -> None:
    """Serve the queue: until it is drained, or (without ``--until-drained``) until killed."""
    start_dbos(args, dequeue=True)
    register_queue(args)
    if not args.until_drained:
        while True:
            time.sleep(1)
    unfinished = unfinished_counter(args)
    while unfinished():
        time.sleep(0.05)


def enqueue(args: argparse.Namespace) -> float:
    workflows = start_dbos(args, dequeue=False)
    queue = register_queue(args)
    return queuelib.enqueue_concurrently(lambda i: queue.enqueue(workflows["three_steps"], i), args.n)


def latency(args: argparse.Namespace) -> dict[str, Any]:
    workflows = start_dbos(args, dequeue=False)
    queue = register_queue(args)

    def result(handle: Any) -> float:
        return float(handle.get_result(polling_interval_sec=0.05))

    return queuelib.measure_latency(lambda i: queue.enqueue(workflows["start_time"], i), result, args, warm=result)


def main() -> None:
    args = queuelib.parse_args(__doc__ or "", ("setup", "enqueue", "worker", "latency"))
    if args.db == "postgres":
        benchlib.create_pg_database(args.name, fresh=False)
    from dbos import DBOS

    try:
        if args.role == "setup":
            start_dbos(args, dequeue=False)
        elif args.role == "worker":
            work(args)
        elif args.role == "enqueue":
            queuelib.emit({"enqueued": args.n, "enqueue_seconds": round(enqueue(args), 3)})
        else:
            queuelib.emit(latency(args))
    finally:
        DBOS.destroy()


if __name__ == "__main__":
    main()
