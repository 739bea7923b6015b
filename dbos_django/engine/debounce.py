"""Debouncing (as DBOS): many calls within a period start one workflow, with the latest inputs.

The first call enqueues a DELAYED workflow whose deduplication id is ``"{workflow}-{key}"``;
each later call within the delay pushes its start back to ``now + period`` (never past
``debounce_timeout_sec`` after the first call) and replaces its inputs. When it starts, it lets
go of the deduplication id, so the next call begins a new round.
"""

from __future__ import annotations

from typing import Any

from .. import conf
from ..error import DBOSException, DBOSQueueDeduplicatedError
from ..models import Workflow
from ..storage import connections as conns
from ..storage import queues as queue_store
from ..storage.queues import INTERNAL_QUEUE
from . import clock
from .context import EnqueueOptions, options
from .enqueue import Target, enqueue_id
from .steps import run_internal_step
from .workflows import serialize_inputs

MAX_ROUNDS = 20  # races with a starting workflow resolve in one or two


def _check_options() -> None:
    opts = options().enqueue
    if opts is not None and any((opts.deduplication_id, opts.delay_seconds, opts.priority,
                                 opts.queue_partition_key, opts.duplication_policy != "reject")):  # fmt: skip
        raise DBOSException("A debounced workflow takes no deduplication id, delay, priority, partition key "
                            "or duplication policy of its own")  # fmt: skip


def _holder_is_other(alias: str, queue_name: str, dedup_id: str, name: str) -> bool:
    holder = conns.run(alias, lambda c: Workflow.objects.using(alias).filter(
        queue_name=queue_name, deduplication_id=dedup_id).values_list("name", "is_debounced").first())  # fmt: skip
    return holder is not None and (holder[0] != name or not holder[1])


def _debounce(target: Target, queue_name: str, key: str, period_sec: float, timeout_sec: float | None,
              kwargs: dict[str, Any]) -> str:  # fmt: skip
    alias = conf.get().database
    dedup_id = f"{target.name}-{key}"
    inputs = serialize_inputs(conf.get().serializer, target.name, target.args, kwargs)
    for _ in range(MAX_ROUNDS):
        now = clock.now_ms()
        bounced = queue_store.bounce(alias, queue_name, dedup_id, target.name, inputs, now + int(period_sec * 1000), now)
        if bounced is not None:
            return bounced
        if _holder_is_other(alias, queue_name, dedup_id, target.name):
            raise DBOSQueueDeduplicatedError("(debounced)", queue_name, dedup_id)
        deadline = now + int(timeout_sec * 1000) if timeout_sec else 0
        delay = min(period_sec, timeout_sec) if timeout_sec else period_sec
        opts = EnqueueOptions(deduplication_id=dedup_id, delay_seconds=max(delay, 0.001), debounce_deadline=deadline)
        try:
            return enqueue_id(queue_name, target, kwargs, None, opts)
        except LookupError:
            continue  # another call enqueued it first: bounce that one
    raise DBOSException(f"Could not debounce {target.name} with key {key}: too much contention")


def debounce(target: Target, queue_name: str | None, key: str, period_sec: float, timeout_sec: float | None,
             kwargs: dict[str, Any]) -> str:  # fmt: skip
    """Debounce a workflow call; return the id of the workflow that will run (one step in a workflow)."""
    if period_sec < 0:
        raise DBOSException(f"debounce_period_sec must be >= 0, not {period_sec}")
    _check_options()
    return run_internal_step("DBOS.debounce", lambda: _debounce(
        target, queue_name or INTERNAL_QUEUE, key, period_sec, timeout_sec, kwargs))  # fmt: skip
