"""Queues stored in the database (``DBOS.register_queue``): limits every worker reads at run time."""

from __future__ import annotations

from typing import Any

from .. import conf
from ..error import DBOSInvalidArgumentError
from ..models import DatabaseQueue
from ..queue import Limiter, Queue
from ..storage import connections as conns
from . import clock

ON_CONFLICT = ("update_if_latest_version", "always_update", "never_update")


def register(name: str, *, concurrency: int | None = None, global_concurrency: int | None = None,
             worker_concurrency: int | None = None, limiter: Limiter | None = None,
             partition_concurrency: int | None = None, partition_worker_concurrency: int | None = None,
             partition_limiter: Limiter | None = None, polling_interval_sec: float = 1.0,
             on_conflict: str = "update_if_latest_version", **deprecated: Any) -> Queue:  # fmt: skip
    """Validate the limits as ``Queue`` does, then upsert the queue's row."""
    if on_conflict not in ON_CONFLICT:
        raise DBOSInvalidArgumentError(f"on_conflict must be one of {', '.join(ON_CONFLICT)}, not {on_conflict!r}")
    queue = Queue(name, concurrency, limiter, global_concurrency=global_concurrency,
                  worker_concurrency=worker_concurrency, partition_concurrency=partition_concurrency,
                  partition_worker_concurrency=partition_worker_concurrency, partition_limiter=partition_limiter,
                  polling_interval_sec=polling_interval_sec, database_backed_queue=True, register=False,
                  **deprecated)  # fmt: skip
    settings = conf.get()
    now = clock.now_ms()
    values = {
        "concurrency": queue.concurrency, "worker_concurrency": queue.worker_concurrency,
        "rate_limit_max": limiter["limit"] if limiter else None,
        "rate_limit_period_sec": limiter["period"] if limiter else None,
        "partition_concurrency": queue.partition_concurrency,
        "partition_worker_concurrency": queue.partition_worker_concurrency,
        "partition_rate_limit_max": partition_limiter["limit"] if partition_limiter else None,
        "partition_rate_limit_period_sec": partition_limiter["period"] if partition_limiter else None,
        "polling_interval_sec": queue.polling_interval_sec, "application_name": settings.application_name,
        "updated_at": now,
    }  # fmt: skip
    rows = DatabaseQueue.objects.using(settings.database)
    if on_conflict == "never_update":
        conns.run(settings.database, lambda c: rows.get_or_create(name=name, defaults={**values, "created_at": now}))
    else:
        conns.run(settings.database, lambda c: rows.update_or_create(name=name, defaults=values,
                                                                    create_defaults={**values, "created_at": now}))  # fmt: skip
    from . import runtime as rt

    running = rt.get()
    if running is not None and running.dispatcher is not None:
        running.dispatcher.refresh_queues()
    return queue
