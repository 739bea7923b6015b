"""Recovery: PENDING workflows whose process died go back to a queue, and any worker resumes them.

At launch a process hands its own PENDING workflows (same executor id, same application version)
to the internal queue, as DBOS does. While running, each process's heartbeat looks for workers
whose heartbeat is older than ``WORKER_TIMEOUT`` and does the same for theirs: one conditional
update, so exactly one survivor takes each workflow. The claim that follows bumps the ownership
epoch, which fences off the old owner if it was only paused.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..storage import executors as executor_store
from ..storage import queues as queue_store
from ..storage.queues import INTERNAL_QUEUE
from . import clock

if TYPE_CHECKING:
    from .runtime import Runtime

logger = logging.getLogger("dbos_django")


def recover_own(runtime: Runtime) -> int:
    """Re-enqueue this executor's PENDING workflows of this application version."""
    count = queue_store.requeue_pending(runtime.alias, [runtime.executor_id], clock.now_ms(),
                                        version=runtime.application_version)  # fmt: skip
    if count:
        logger.info("Recovery: %d pending workflows of executor %s re-enqueued", count, runtime.executor_id)
    return count


def recover_dead(runtime: Runtime, executor_ids: list[str]) -> int:
    """Re-enqueue the PENDING workflows of executors whose heartbeat stopped."""
    count = queue_store.requeue_pending(runtime.alias, executor_ids, clock.now_ms())
    if count:
        logger.warning("Recovery: %d pending workflows of dead executor(s) %s re-enqueued",
                       count, ", ".join(executor_ids))  # fmt: skip
        runtime.wake_queue(INTERNAL_QUEUE)
        runtime.wake_queue(None)
    return count


def recover_executors(alias: str, executor_ids: list[str]) -> int:
    """Re-enqueue the PENDING workflows of these executors from outside a worker (``dbos_recover``)."""
    count = queue_store.requeue_pending(alias, executor_ids, clock.now_ms())
    if count:
        logger.info("Recovery: %d pending workflows of executor(s) %s re-enqueued", count, ", ".join(executor_ids))
    return count


def heartbeat_age(alias: str, executor_id: str) -> float | None:
    """Seconds since this executor's last heartbeat, or None if it never had one (or was forgotten)."""
    heartbeat = executor_store.last_heartbeat(alias, executor_id)
    return None if heartbeat is None else (clock.now_ms() - heartbeat) / 1000


def recover_silent_executors(alias: str, worker_timeout: float) -> tuple[list[str], int]:
    """Re-enqueue the PENDING workflows of every executor silent for ``worker_timeout`` seconds, and forget them.

    Return the executors found dead and how many workflows were re-enqueued.
    """
    cutoff = clock.now_ms() - int(worker_timeout * 1000)
    dead = executor_store.stale(alias, cutoff)
    if not dead:
        return [], 0
    count = recover_executors(alias, dead)
    executor_store.forget(alias, dead, cutoff)
    return dead, count
