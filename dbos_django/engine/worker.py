"""The ``dbos_worker`` process: wait for the database, serve queues, stop gracefully on SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from types import FrameType

from django.db import OperationalError, connections

from .. import conf
from ..storage import queues as queue_store
from . import clock
from . import runtime as rt

logger = logging.getLogger("dbos_django")


def default_executor_id() -> str:
    """Unique per worker process (unlike DBOS's shared "local"): host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerOptions:
    queues: list[str] | None = None
    concurrency: int | None = None
    executor_id: str | None = None
    burst: bool = False
    grace_period: float = 30.0


def wait_for_database(alias: str, give_up_after: float | None = None) -> None:
    """Block until the database answers, saying so once in the log."""
    started, warned = time.monotonic(), False
    while True:
        try:
            connections[alias].ensure_connection()
            return
        except OperationalError as exc:
            if not warned:
                logger.warning("Waiting for database %r (%s)", alias, exc)
                warned = True
            if give_up_after is not None and time.monotonic() - started > give_up_after:
                raise
            connections[alias].close()
            time.sleep(1.0)


def run(options: WorkerOptions) -> int:
    """Serve the queues until SIGTERM/SIGINT (or, with ``burst``, until no work is left). Return the exit code."""
    overrides: dict[str, object] = {"EXECUTOR_ID": options.executor_id or default_executor_id()}
    if options.concurrency:
        overrides["MAX_THREADS"] = options.concurrency
    conf.set_overrides(overrides)
    settings = conf.get()
    wait_for_database(settings.database)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logger.info("Received %s: no new work; finishing what runs (grace period %ss)",
                    signal.Signals(signum).name, options.grace_period)  # fmt: skip
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    runtime = rt.launch(options.queues)
    logger.info("dbos_worker %s serving %s with %d threads", runtime.executor_id,
                ", ".join(options.queues) if options.queues else "every queue", settings.max_threads)  # fmt: skip
    try:
        while not stop.wait(0.2):
            if options.burst and _idle(runtime, options.queues):
                logger.info("No work left: exiting (--burst)")
                break
        if _drain(runtime, options.grace_period):
            # Threads still run workflows whose rows went back to the queues: leave them behind.
            logging.shutdown()
            os._exit(0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        conf.clear_dbos_config()
    return 0


def _idle(runtime: rt.Runtime, queues: list[str] | None) -> bool:
    dispatcher = runtime.dispatcher
    if dispatcher is None or dispatcher.running_count() or runtime.free_slots() < runtime.settings.max_threads:
        return False
    # Rows claimed a moment ago are PENDING under our id before they show as running.
    return not queue_store.has_work(runtime.alias, queues) and not queue_store.owns_pending(runtime.alias,
                                                                                           runtime.executor_id)


def _drain(runtime: rt.Runtime, grace_period: float) -> int:
    """Stop claiming, give running workflows the grace period, then hand what is left back to the queues."""
    runtime.stop_claiming()
    deadline = time.monotonic() + grace_period
    while runtime.free_slots() < runtime.settings.max_threads and time.monotonic() < deadline:
        time.sleep(0.1)
    left = runtime.settings.max_threads - runtime.free_slots()
    rt.destroy()
    # Whatever is still ours (running past the grace period, or claimed as we stopped) goes back to the queues.
    count = queue_store.requeue_pending(runtime.alias, [runtime.executor_id], clock.now_ms())
    if count:
        logger.warning("Grace period over: %d workflows still running were re-enqueued for other workers", count)
    from ..models import Executor

    Executor.objects.using(runtime.alias).filter(executor_id=runtime.executor_id).delete()
    return left
