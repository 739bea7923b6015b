"""Enqueueing: one row (ENQUEUED or DELAYED), written with the ORM's connection, no runtime needed.

Inside the caller's ``transaction.atomic()`` the row commits or rolls back with the caller's writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction

from .. import conf
from ..decorators import workflow_call
from ..error import DBOSInvalidArgumentError, DBOSQueueDeduplicatedError
from ..storage import queues as queue_store
from ..storage import steps as step_store
from ..storage.records import ExistingWorkflow, NewWorkflow, Owner, StepRecord
from . import arguments, clock
from . import runtime as rt
from .aio import db
from .classes import split_receiver
from .context import EnqueueOptions, WorkflowContext, in_workflow_body, options, take_assigned_id
from .handles import WorkflowHandle, WorkflowHandleAsync
from .registry import WorkflowInfo
from .steps import encode, replay
from .workflows import check_same_function, serialize_inputs, timeout_and_deadline

MAX_PRIORITY = 2**31 - 1


def _validate(queue_name: str, opts: EnqueueOptions, partitioned: bool | None) -> None:
    arguments.text(queue_name, "queue name")
    if opts.priority is not None and (not isinstance(opts.priority, int) or isinstance(opts.priority, bool)
                                      or not 1 <= opts.priority <= MAX_PRIORITY):  # fmt: skip
        raise DBOSInvalidArgumentError(f"Invalid priority {opts.priority!r}: priority must be between 1 and {MAX_PRIORITY}")
    if opts.delay_seconds is not None:
        arguments.seconds(opts.delay_seconds, "delay_seconds")
    arguments.optional_text(opts.deduplication_id, "deduplication_id")
    arguments.optional_text(opts.app_version, "app_version")
    if opts.queue_partition_key is not None:
        arguments.key(opts.queue_partition_key, "queue_partition_key")
    if opts.duplication_policy not in ("reject", "return-existing"):
        raise DBOSInvalidArgumentError(f"Invalid duplication_policy {opts.duplication_policy!r}: 'reject' or 'return-existing'")
    if partitioned and opts.queue_partition_key is None:
        raise DBOSInvalidArgumentError(f"Queue {queue_name} is partitioned: set SetEnqueueOptions(queue_partition_key=...)")
    if partitioned is False and opts.queue_partition_key is not None:
        raise DBOSInvalidArgumentError(f"Queue {queue_name} is not partitioned, but a queue_partition_key was given")
    if opts.queue_partition_key is not None and opts.deduplication_id is not None:
        raise DBOSInvalidArgumentError("Deduplication is not supported on partitioned queues")


def application_version(opts: EnqueueOptions) -> str | None:
    """The version a queued workflow is pinned to: explicit, pinned in settings, this runtime's, or none."""
    if opts.app_version is not None:
        return opts.app_version
    runtime = rt.get()
    return conf.get().application_version or (runtime.application_version if runtime else None)


@dataclass(frozen=True, slots=True)
class Target:
    """What to enqueue: a workflow by name (and class/instance), with its stored arguments."""

    name: str
    args: tuple[Any, ...]
    class_name: str | None = None
    config_name: str | None = None

    @classmethod
    def of(cls, info: WorkflowInfo, args: tuple[Any, ...]) -> Target:
        class_name, config_name, stored = split_receiver(info, args)
        return cls(info.name, stored, class_name, config_name)


def _row(queue_name: str, target: Target, kwargs: dict[str, Any], workflow_id: str, opts: EnqueueOptions,
         parent: WorkflowContext | None) -> NewWorkflow:  # fmt: skip
    settings = conf.get()
    inputs = serialize_inputs(settings.serializer, target.name, target.args, kwargs)
    now = clock.now_ms()
    delayed = bool(opts.delay_seconds and opts.delay_seconds > 0)
    timeout_ms, deadline = timeout_and_deadline(parent, now, queued=True)
    return NewWorkflow(
        workflow_id=workflow_id, status="DELAYED" if delayed else "ENQUEUED", name=target.name,
        class_name=target.class_name, config_name=target.config_name, inputs=inputs,
        serialization=settings.serializer.name(), executor_id=None,
        workflow_timeout_ms=timeout_ms, workflow_deadline_epoch_ms=deadline,
        application_version=application_version(opts), application_name=settings.application_name,
        created_at=now, recovery_attempts=0, owner_xid=None,
        parent_workflow_id=parent.workflow_id if parent else None, queue_name=queue_name,
        deduplication_id=opts.deduplication_id, priority=opts.priority or 0,
        queue_partition_key=opts.queue_partition_key,
        delay_until_epoch_ms=now + int((opts.delay_seconds or 0) * 1000) if delayed else None,
        is_debounced=opts.debounce_deadline is not None,
        debounce_deadline_epoch_ms=opts.debounce_deadline if opts.debounce_deadline else None,
    )  # fmt: skip


def _insert(alias: str, row: NewWorkflow, parent: Owner | None, function_id: int | None) -> ExistingWorkflow | None:
    """Write the row (with the parent's marker, atomically); raise LookupError on a deduplication conflict."""
    if parent is None or function_id is None:
        return queue_store.enqueue(alias, row)
    marker = StepRecord(function_id, row.name, None, None, row.workflow_id, row.created_at, row.created_at)
    with transaction.atomic(using=alias):
        existing = queue_store.enqueue(alias, row)
        step_store.record(parent, marker)
    return existing


def _deduplicated(alias: str, row: NewWorkflow, policy: str) -> str:
    holder = queue_store.dedup_holder(alias, row.queue_name or "", row.deduplication_id or "")
    if policy == "return-existing" and holder is not None:
        return holder
    raise DBOSQueueDeduplicatedError(row.workflow_id, row.queue_name or "", row.deduplication_id or "")


def enqueue_id(queue_name: str, target: Target, kwargs: dict[str, Any], partitioned: bool | None,
               opts: EnqueueOptions | None = None, *, check_queue: bool = False) -> str:  # fmt: skip
    """Enqueue and return the workflow id (the id already holding the dedup id, with 'return-existing').

    Raise ``LookupError`` instead of ``DBOSQueueDeduplicatedError`` when ``opts`` come from the debouncer.
    ``check_queue`` refuses a queue neither declared in code nor stored in the database.
    """
    opts = opts or options().enqueue or EnqueueOptions()
    _validate(queue_name, opts, partitioned)
    parent = in_workflow_body()
    assigned = take_assigned_id()
    function_id = parent.reserve() if parent else None
    if parent is not None and function_id is not None:
        recorded = parent.recorded.get(function_id)
        if recorded is not None:
            replay(parent, function_id, target.name, recorded)
            return recorded.child_workflow_id or ""
    if check_queue:
        arguments.known_queue(queue_name)
    default_id = f"{parent.workflow_id}-{function_id}" if parent else str(uuid.uuid4())
    row = _row(queue_name, target, kwargs, assigned or default_id, opts, parent)
    alias = parent.alias if parent else conf.get().database
    try:
        existing = _insert(alias, row, parent.owner if parent else None, function_id)
    except LookupError:
        if opts.debounce_deadline is not None:
            raise  # the debouncer bounces the holder instead
        try:
            return _deduplicated(alias, row, opts.duplication_policy)
        except DBOSQueueDeduplicatedError as exc:
            if parent is not None and function_id is not None:
                record, _ = encode(parent, function_id, target.name, row.created_at, error=exc)
                step_store.record(parent.owner, record)
            raise
    if existing is not None:
        check_same_function(row, existing)
    _wake(alias, queue_name)
    return row.workflow_id


def _wake(alias: str, queue_name: str) -> None:
    """Tell this process's dispatcher at once (other processes hear it through NOTIFY or polling)."""
    runtime = rt.get()
    if runtime is None:
        return
    if connections[alias].in_atomic_block:
        transaction.on_commit(lambda: runtime.wake_queue(queue_name), using=alias)
    else:
        runtime.wake_queue(queue_name)


def enqueue(queue_name: str, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], *,
            partitioned: bool | None = None, check_queue: bool = True) -> WorkflowHandle[Any]:  # fmt: skip
    """Enqueue ``func`` on a queue; return a handle on it. Raise ``DBOSInvalidArgumentError`` for an unknown queue."""
    info, args = workflow_call(func, args)
    return WorkflowHandle(enqueue_id(queue_name, Target.of(info, args), kwargs, partitioned, check_queue=check_queue))


async def enqueue_async(queue_name: str, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                        *, partitioned: bool | None = None, check_queue: bool = True) -> WorkflowHandleAsync[Any]:  # fmt: skip
    info, args = workflow_call(func, args)
    return WorkflowHandleAsync(await db(enqueue_id, queue_name, Target.of(info, args), kwargs, partitioned,
                                        check_queue=check_queue))  # fmt: skip
