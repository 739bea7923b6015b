"""``Queue``: a named queue of workflows with concurrency, rate and partition limits (as DBOS)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypedDict

from .engine import arguments
from .engine.handles import WorkflowHandle, WorkflowHandleAsync
from .engine.registry import registry
from .error import DBOSInvalidArgumentError
from .storage.queues import Limits


class Limiter(TypedDict):
    """At most ``limit`` workflows start per ``period`` seconds."""

    limit: int
    period: float


def _check_limiter(name: str, value: Limiter | None) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or "limit" not in value or "period" not in value:
        raise DBOSInvalidArgumentError(f"Queue {name}: a limiter needs both 'limit' and 'period', got {value!r}")
    limit, period = value["limit"], value["period"]
    valid_limit = isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1
    valid_period = isinstance(period, (int, float)) and not isinstance(period, bool) and 0 < period < math.inf
    if not (valid_limit and valid_period):
        raise DBOSInvalidArgumentError(
            f"Queue {name}: limiter limit must be an integer >= 1 and period a finite number of seconds > 0, "
            f"got {value!r}"
        )


def _positive(name: str, **values: int | None) -> None:
    for key, value in values.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise DBOSInvalidArgumentError(f"Queue {name}: {key} must be a positive integer, not {value!r}")


class Queue:
    """Declare a queue: workflows enqueued on it run in ``dbos_worker`` processes, within its limits.

    Raise ``DBOSInvalidArgumentError`` (a ``ValueError``) for an empty name, inconsistent limits, or a name
    already declared.
    """

    def __init__(self, name: str, concurrency: int | None = None, limiter: Limiter | None = None, *,
                 worker_concurrency: int | None = None, global_concurrency: int | None = None,
                 partition_concurrency: int | None = None, partition_worker_concurrency: int | None = None,
                 partition_limiter: Limiter | None = None, polling_interval_sec: float = 1.0,
                 priority_enabled: bool = False, partition_queue: bool = False,
                 database_backed_queue: bool = False, register: bool = True) -> None:  # fmt: skip
        arguments.text(name, "queue name")
        if concurrency is not None and global_concurrency is not None:
            raise DBOSInvalidArgumentError(f"Queue {name}: set concurrency or global_concurrency, not both")
        concurrency = concurrency if concurrency is not None else global_concurrency
        _positive(name, concurrency=concurrency, worker_concurrency=worker_concurrency,
                  partition_concurrency=partition_concurrency,
                  partition_worker_concurrency=partition_worker_concurrency)  # fmt: skip
        _check_limiter(name, limiter)
        _check_limiter(name, partition_limiter)
        if concurrency is not None and worker_concurrency is not None and worker_concurrency > concurrency:
            raise DBOSInvalidArgumentError(f"Queue {name}: worker_concurrency ({worker_concurrency}) exceeds concurrency ({concurrency})")
        if partition_worker_concurrency is not None:
            for other, label in ((partition_concurrency, "partition_concurrency"), (worker_concurrency, "worker_concurrency")):
                if other is not None and partition_worker_concurrency > other:
                    raise DBOSInvalidArgumentError(f"Queue {name}: partition_worker_concurrency exceeds {label}")
        if partition_concurrency is not None and concurrency is not None and partition_concurrency > concurrency:
            raise DBOSInvalidArgumentError(f"Queue {name}: partition_concurrency exceeds the global concurrency")
        polling = polling_interval_sec
        if isinstance(polling, bool) or not isinstance(polling, (int, float)) or not 0 < polling < math.inf:
            raise DBOSInvalidArgumentError(f"Queue {name}: polling_interval_sec must be a finite number > 0, not {polling!r}")
        has_partition_limits = any(v is not None for v in (partition_concurrency, partition_worker_concurrency, partition_limiter))
        if partition_queue and (has_partition_limits or global_concurrency is not None):
            raise DBOSInvalidArgumentError(f"Queue {name}: partition_queue cannot be combined with partition_* or global_concurrency")
        if partition_queue:  # legacy: the plain limits apply per partition
            partition_concurrency, partition_worker_concurrency, partition_limiter = concurrency, worker_concurrency, limiter
            concurrency = worker_concurrency = limiter = None  # type: ignore[assignment]
        self.name = name
        self.concurrency = concurrency
        self.worker_concurrency = worker_concurrency
        self.limiter = limiter
        self.partition_concurrency = partition_concurrency
        self.partition_worker_concurrency = partition_worker_concurrency
        self.partition_limiter = partition_limiter
        self.polling_interval_sec = float(polling_interval_sec)
        self.priority_enabled = priority_enabled
        self.partition_queue = partition_queue or has_partition_limits
        self.database_backed_queue = database_backed_queue
        if register:
            registry.add_queue(self)

    @property
    def global_concurrency(self) -> int | None:
        """The most workflows of this queue running at once across all workers (``None``: no limit)."""
        return self.concurrency

    @property
    def partitioned(self) -> bool:
        """Tell whether every enqueue needs a ``queue_partition_key`` (set by any ``partition_*`` limit)."""
        return self.partition_queue

    def limits(self) -> Limits:
        """The limits every worker shares (checked in the database when claiming)."""
        return Limits(
            concurrency=self.concurrency,
            rate_limit_max=self.limiter["limit"] if self.limiter else None,
            rate_limit_period_sec=self.limiter["period"] if self.limiter else None,
            partition_concurrency=self.partition_concurrency,
            partition_rate_limit_max=self.partition_limiter["limit"] if self.partition_limiter else None,
            partition_rate_limit_period_sec=self.partition_limiter["period"] if self.partition_limiter else None,
        )

    def enqueue(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
        """Enqueue a workflow; return its handle at once. Needs only the database, no running runtime.

        Options come from an enclosing :class:`SetEnqueueOptions` and :class:`SetWorkflowID`; the row is written in
        the caller's open ``transaction.atomic()``, if any, and in a workflow the enqueue takes one step number.
        Raise ``DBOSException`` if ``func`` is not a workflow, ``DBOSInvalidArgumentError`` for invalid options (a
        partitioned queue needs a ``queue_partition_key``), and ``DBOSQueueDeduplicatedError`` if another workflow
        on the queue holds the deduplication id (unless ``duplication_policy`` is ``"return-existing"``).
        """
        from .engine import enqueue

        return enqueue.enqueue(self.name, func, args, kwargs, partitioned=self.partitioned, check_queue=False)

    async def enqueue_async(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> WorkflowHandleAsync[Any]:
        """Async twin of :meth:`enqueue`; return a :class:`WorkflowHandleAsync`."""
        from .engine import enqueue

        return await enqueue.enqueue_async(self.name, func, args, kwargs, partitioned=self.partitioned,
                                           check_queue=False)  # fmt: skip

    def __repr__(self) -> str:
        return f"Queue({self.name!r})"
