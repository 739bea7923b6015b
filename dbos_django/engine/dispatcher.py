"""The queue dispatcher of a process: claims ENQUEUED workflows within every limit and runs them.

One thread serves every queue in turn (a busy queue cannot starve an idle one) and never claims
more than the runtime has free threads, so a backlog waits in the database, not in memory.
It wakes on PostgreSQL NOTIFY, on local enqueues and completions, and otherwise polls each
queue at its own interval (jittered, backing off while the queue is idle).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from django.db import close_old_connections

from ..error import DBOSSerializationError, DBOSWorkflowFunctionNotFoundError, MaxRecoveryAttemptsExceededError
from ..models import DatabaseQueue
from ..queue import Queue
from ..storage import connections as conns
from ..storage import queues as queue_store
from ..storage import workflows as wf_store
from ..storage.queues import INTERNAL_QUEUE
from ..storage.records import ClaimedWorkflow, StepRecord
from . import clock, unrunnable
from .classes import receiver
from .context import WorkflowContext
from .registry import WorkflowInfo, registry

if TYPE_CHECKING:
    from .runtime import Runtime

logger = logging.getLogger("dbos_django")
DB_QUEUES_REFRESH_SECONDS = 2.0
IDLE_BACKOFF_POLLING = 1.0  # without NOTIFY polling is the path: keep each queue's interval (as DBOS)
IDLE_BACKOFF_LISTENING = 30.0  # ... when NOTIFY wakes us


class Dispatcher:
    """Claim and start queued workflows for one runtime."""

    def __init__(self, runtime: Runtime, queue_names: list[str] | None) -> None:
        self.runtime = runtime
        self.queue_names = None if queue_names is None else {*queue_names, INTERNAL_QUEUE}
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._due: set[str] = set()
        self._next_poll: dict[str, float] = {}
        self._interval: dict[str, float] = {}
        self._running: Counter[tuple[str, str | None]] = Counter()
        self._db_queues: dict[str, Queue] = {}
        self._db_queues_at = 0.0
        self._turn = 0
        self._stop = threading.Event()
        self.claiming = threading.Event()
        self.claiming.set()
        self._thread = threading.Thread(target=self._run, name="dbos-dispatcher", daemon=True)
        registry.queues.setdefault(INTERNAL_QUEUE, Queue(INTERNAL_QUEUE, register=False))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._event.set()
        self._thread.join(timeout=5)

    def wake(self, queue_name: str | None = None) -> None:
        """Look at a queue (or every queue) now."""
        with self._lock:
            if queue_name is None:
                self._next_poll.clear()
            else:
                self._due.add(queue_name)
        self._event.set()

    def refresh_queues(self) -> None:
        """Re-read the queues stored in the database now (one was just registered or changed)."""
        self._db_queues_at = 0.0
        self.wake()

    def running_count(self) -> int:
        with self._lock:
            return sum(self._running.values())

    # The loop
    def _run(self) -> None:
        next_delay_check = 0.0
        while not self._stop.is_set():
            try:
                now = time.monotonic()
                if now >= next_delay_check:
                    if queue_store.promote_delayed(self.runtime.alias, clock.now_ms()):
                        self.wake()
                    next_delay_check = now + min((q.polling_interval_sec for q in self._queues().values()), default=1.0)
                if self.claiming.is_set():
                    self._serve(now)
            except Exception:
                logger.exception("Queue dispatcher error; retrying")
                self._stop.wait(1.0)
            finally:
                close_old_connections()
            self._event.wait(self._sleep_seconds(next_delay_check))
            self._event.clear()

    def _sleep_seconds(self, next_delay_check: float) -> float:
        now = time.monotonic()
        if self.runtime.free_slots() <= 0:
            return max(0.0, next_delay_check - now)  # a finishing workflow wakes us
        with self._lock:
            if self._due:
                return 0
            upcoming = [t for t in self._next_poll.values()] + [next_delay_check]
        return max(0.0, min(upcoming) - now)

    def _queues(self) -> dict[str, Queue]:
        now = time.monotonic()
        if now - self._db_queues_at > DB_QUEUES_REFRESH_SECONDS:
            self._db_queues = _db_queues(conns.run(self.runtime.alias,
                                                   lambda c: list(DatabaseQueue.objects.using(self.runtime.alias))))  # fmt: skip
            self._db_queues_at = now
        found = {**self._db_queues, **registry.queues}  # a queue declared in code wins
        if self.queue_names is not None:
            found = {name: q for name, q in found.items() if name in self.queue_names}
        return found

    def _serve(self, now: float) -> None:
        queues = self._queues()
        names = sorted(queues)
        if not names:
            return
        self._turn = (self._turn + 1) % len(names)
        with self._lock:
            due = [n for n in names[self._turn :] + names[: self._turn]
                   if n in self._due or now >= self._next_poll.get(n, 0.0)]  # fmt: skip
            polled = {n for n in due if now >= self._next_poll.get(n, 0.0)}
            self._due.difference_update(due)
        for name in due:
            free = self.runtime.free_slots()
            if free <= 0:
                with self._lock:
                    self._due.update(due)  # look again when a thread frees up
                return
            share = max(1, free // len(due))
            claimed, full = self._claim(queues[name], share)
            if claimed or name in polled:  # an empty claim on a wake-up is no idle poll: keep the schedule
                self._schedule(queues[name], busy=claimed > 0, again=full)

    def _schedule(self, queue: Queue, *, busy: bool, again: bool) -> None:
        base = queue.polling_interval_sec
        cap = IDLE_BACKOFF_LISTENING if self.runtime.listening() else IDLE_BACKOFF_POLLING
        limited = queue.limiter is not None or queue.partition_limiter is not None
        # A rate-limited queue may be empty only because its window is used up: keep polling at its pace.
        interval = base if busy or limited else min(self._interval.get(queue.name, base) * 1.5, base * cap)
        self._interval[queue.name] = interval
        with self._lock:
            self._next_poll[queue.name] = time.monotonic() + interval * random.uniform(0.95, 1.05)
            if again:
                self._due.add(queue.name)

    def _claim(self, queue: Queue, wanted: int) -> tuple[int, bool]:
        """Claim up to ``wanted`` workflows of a queue; return (how many, whether more may be waiting)."""
        if queue.worker_concurrency is not None:
            with self._lock:
                local = sum(n for (q, _), n in self._running.items() if q == queue.name)
            wanted = min(wanted, queue.worker_concurrency - local)
        if wanted <= 0:
            return 0, False
        if not queue.partitioned:
            got = self._claim_partition(queue, None, wanted)
            return got, got == wanted
        total = 0
        for partition in queue_store.partitions(self.runtime.alias, queue.name):
            room = wanted - total
            if queue.partition_worker_concurrency is not None:
                with self._lock:
                    room = min(room, queue.partition_worker_concurrency - self._running[(queue.name, partition)])
            if room > 0:
                total += self._claim_partition(queue, partition, room)
            if total >= wanted:
                break
        return total, total >= wanted

    def _claim_partition(self, queue: Queue, partition: str | None, wanted: int) -> int:
        runtime = self.runtime
        claimed = queue_store.claim(runtime.alias, queue.name, partition=partition, limits=queue.limits(),
                                    wanted=wanted, executor_id=runtime.executor_id,
                                    versions=(runtime.application_version,), now_ms=clock.now_ms())  # fmt: skip
        if claimed:
            steps = queue_store.load_steps(runtime.alias, [c.workflow_id for c in claimed])
            for row in claimed:
                self._start(row, steps[row.workflow_id])
        return len(claimed)

    def _start(self, row: ClaimedWorkflow, recorded: dict[int, StepRecord]) -> None:
        """Run one claimed workflow, or end it if it may not run."""
        prepared = prepare_claimed(self.runtime, row, recorded)
        if prepared is None:
            return
        key = (row.queue_name or INTERNAL_QUEUE, row.queue_partition_key)
        with self._lock:
            self._running[key] += 1
        logger.info("Starting workflow %s (%s) from queue %s", row.workflow_id, row.name, key[0])
        from .workflows import _launch

        future = _launch(self.runtime, *prepared)
        future.add_done_callback(lambda f: self._finished(row, key, f))

    def _finished(self, row: ClaimedWorkflow, key: tuple[str, str | None], future: Future[Any]) -> None:
        with self._lock:
            self._running[key] -= 1
            if self._running[key] <= 0:
                del self._running[key]
        error = future.exception() if not future.cancelled() else None
        from .workflows import Parked

        if error is None or isinstance(error, Parked):
            outcome = "SUCCESS" if error is None else "stopped: cancelled or taken over"
            logger.info("Finished workflow %s (%s): %s", row.workflow_id, row.name, outcome)
        else:  # at ERROR, so that error trackers reading the logs (Sentry's logging integration...) see it
            logger.error("Finished workflow %s (%s): ERROR %r", row.workflow_id, row.name, error)
        self.wake(key[0])


Prepared = tuple[WorkflowContext, WorkflowInfo, tuple[Any, ...], dict[str, Any]]


def prepare_claimed(runtime: Runtime, row: ClaimedWorkflow, recorded: dict[int, StepRecord]) -> Prepared | None:
    """The context and arguments to run a claimed workflow; None (after ending it if need be) if it may not run.

    A workflow whose code is missing here, or whose inputs cannot be read, ends in ERROR saying why.
    """
    info = unrunnable.workflow_for(row)
    if info is None:
        unrunnable.fail(runtime, row, unrunnable.missing_function(runtime, row))
        return None
    limit = info.max_recovery_attempts
    if limit is not None and row.recovery_attempts > limit + 1:
        wf_store.dead_letter(runtime.alias, row.workflow_id, clock.now_ms())
        runtime.notify_done()
        logger.error("%s", MaxRecoveryAttemptsExceededError(row.workflow_id, limit))
        return None
    try:
        serializer = unrunnable.serializer_for(runtime, row)
        inputs = unrunnable.inputs_of(serializer, row)
        bound = receiver(row.workflow_id, row.class_name, row.config_name)
    except (DBOSSerializationError, DBOSWorkflowFunctionNotFoundError) as exc:
        unrunnable.fail(runtime, row, exc)
        return None
    wf = WorkflowContext(
        workflow_id=row.workflow_id, name=info.name, runtime=runtime, alias=runtime.alias, serializer=serializer,
        recorded=recorded, deadline_ms=row.workflow_deadline_epoch_ms, epoch=row.owner_epoch, quiet=True,
    )  # fmt: skip
    return wf, info, (*bound, *inputs["args"]), inputs["kwargs"]


def _db_queues(rows: list[DatabaseQueue]) -> dict[str, Queue]:
    """The queues stored in the database; a row with invalid limits (written by hand) is skipped, and said so."""
    found = {}
    for row in rows:
        try:
            found[row.name] = _db_queue(row)
        except ValueError as exc:
            logger.error("Queue %r stored in the database is not served: %s", row.name, exc)
    return found


def _db_queue(row: DatabaseQueue) -> Queue:
    limiter = ({"limit": row.rate_limit_max, "period": row.rate_limit_period_sec}
               if row.rate_limit_max and row.rate_limit_period_sec else None)  # fmt: skip
    partition_limiter = ({"limit": row.partition_rate_limit_max, "period": row.partition_rate_limit_period_sec}
                         if row.partition_rate_limit_max and row.partition_rate_limit_period_sec else None)  # fmt: skip
    return Queue(row.name, row.concurrency, limiter, worker_concurrency=row.worker_concurrency,  # type: ignore[arg-type]
                 partition_concurrency=row.partition_concurrency,
                 partition_worker_concurrency=row.partition_worker_concurrency,
                 partition_limiter=partition_limiter, polling_interval_sec=row.polling_interval_sec,  # type: ignore[arg-type]
                 database_backed_queue=True, register=False)  # fmt: skip
