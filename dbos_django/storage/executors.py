"""Executor rows (one per worker process, with its heartbeat), read by recovery from outside a worker."""

from __future__ import annotations

from ..models import Executor
from . import connections as conns


def stale(alias: str, cutoff_ms: int) -> list[str]:
    """The executors whose last heartbeat is older than ``cutoff_ms``."""
    query = Executor.objects.using(alias).filter(heartbeat_at__lt=cutoff_ms).order_by("executor_id")
    return conns.run(alias, lambda conn: list(query.values_list("executor_id", flat=True)))


def last_heartbeat(alias: str, executor_id: str) -> int | None:
    """When this executor last said it was alive (epoch ms), or None if it has no row."""
    query = Executor.objects.using(alias).filter(executor_id=executor_id).values_list("heartbeat_at", flat=True)
    return conns.run(alias, lambda conn: query.first())


def forget(alias: str, executor_ids: list[str], cutoff_ms: int) -> int:
    """Delete the rows of these executors if they are still silent since ``cutoff_ms``; return how many."""
    query = Executor.objects.using(alias).filter(executor_id__in=executor_ids, heartbeat_at__lt=cutoff_ms)
    return conns.run(alias, lambda conn: query.delete()[0])
