"""``DBOS``: DBOS's classmethod API, kept because users' code depends on it. No logic of its own."""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import datetime
from typing import Any, TypeVar

from django.utils.functional import classproperty

from . import conf, decorators
from .engine import (
    control,
    enqueue,
    introspection,
    messaging,
    outcomes,
    patching,
    queue_admin,
    sleep,
    steps,
    workflows,
)
from .engine import runtime as rt
from .engine import schedules as schedule_api
from .engine.aio import check_async, db, wait_in_thread
from .engine.classes import dbos_class
from .engine.context import current_step, current_workflow
from .engine.handles import WorkflowHandle, WorkflowHandleAsync
from .engine.registry import registry
from .engine.schedules import ScheduleInput, WorkflowSchedule
from .engine.steps import run_internal_step, run_internal_step_async
from .error import DBOSNonExistentWorkflowError
from .queue import Queue
from .storage.listing import Filters
from .types import SendMessage, StepInfo, StepOptions, StepStatus, WorkflowStatus

R = TypeVar("R")
logger = logging.getLogger("dbos_django")


class DBOS:
    """Durable workflows, steps and transactions on the Django ORM.

    ``DBOS(config={...})`` is accepted for compatibility with DBOS: its keys map onto the
    ``DBOS`` Django setting until ``DBOS.destroy()``.
    """

    def __init__(self, *, config: dict[str, Any] | None = None, **ignored: Any) -> None:
        for key in ignored:  # fastapi=, flask=, conductor_key=...: integrations that do not apply here
            warnings.warn(f"DBOS() argument {key!r} is not implemented by dbos_django and is ignored",
                          conf.DBOSCompatibilityWarning, stacklevel=2)  # fmt: skip
        if config is not None:
            conf.apply_dbos_config(config)

    # Decorators
    workflow = staticmethod(decorators.workflow)
    step = staticmethod(decorators.step)
    transaction = staticmethod(decorators.transaction)

    # Lifecycle
    @classmethod
    def launch(cls, *, queues: list[str] | None = None) -> None:
        """Start the runtime of this process: thread pool, queue dispatcher, heartbeat, recovery. Idempotent.

        ``queues`` limits the queues this process serves (default: all).
        """
        rt.launch(queues)

    @classmethod
    def destroy(cls, *, destroy_registry: bool = False, workflow_completion_timeout_sec: float = 0) -> None:
        """Stop the runtime and forget ``DBOS(config=...)``; ``destroy_registry`` also forgets decorated functions."""
        rt.destroy(workflow_completion_timeout_sec)
        conf.clear_dbos_config()
        if destroy_registry:
            registry.clear()

    # Starting and waiting
    @classmethod
    def start_workflow(cls, func: Callable[..., R], *args: Any, **kwargs: Any) -> WorkflowHandle[R]:
        """Start a workflow in the background and return its handle at once.

        The row is written before this returns: inside an open ``transaction.atomic()`` it is part of that
        transaction, and the workflow starts running once it commits. In a workflow the start takes one step number.
        Raise ``DBOSException`` if ``func`` is not a workflow and ``DBOSConflictingWorkflowError`` if the id given by
        :class:`SetWorkflowID` belongs to another function; an id that already finished is not run again.
        """
        return workflows.start(*decorators.workflow_call(func, args), kwargs)

    @classmethod
    async def start_workflow_async(cls, func: Callable[..., Coroutine[Any, Any, R] | R], *args: Any,
                                   **kwargs: Any) -> WorkflowHandleAsync[R]:  # fmt: skip
        """Async twin of :meth:`start_workflow`; return a :class:`WorkflowHandleAsync`.

        An ``async def`` workflow runs as a task on the caller's event loop; a sync one runs on the runtime's threads.
        """
        return await workflows.start_async(*decorators.workflow_call(func, args), kwargs)

    @classmethod
    def retrieve_workflow(cls, workflow_id: str, existing_workflow: bool = True) -> WorkflowHandle[Any]:
        """Return a handle on a workflow by id; raise ``DBOSNonExistentWorkflowError`` if there is none."""
        check_async("retrieve_workflow")
        if existing_workflow and cls.get_workflow_status(workflow_id) is None:
            raise DBOSNonExistentWorkflowError(workflow_id)
        return WorkflowHandle(workflow_id)

    @classmethod
    async def retrieve_workflow_async(cls, workflow_id: str, existing_workflow: bool = True) -> WorkflowHandleAsync[Any]:
        """Async twin of :meth:`retrieve_workflow`; return a :class:`WorkflowHandleAsync`."""
        if existing_workflow and await cls.get_workflow_status_async(workflow_id) is None:
            raise DBOSNonExistentWorkflowError(workflow_id)
        return WorkflowHandleAsync(workflow_id)

    @classmethod
    def get_result(cls, workflow_id: str, *, polling_interval_sec: float | None = None) -> Any:
        """Wait for a workflow to finish; return its value or raise its error.

        Raise ``DBOSAwaitedWorkflowCancelledError`` if it was cancelled and
        ``DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded`` if it ran out of recovery attempts. In a workflow the
        result is checkpointed (one step number).
        """
        check_async("get_result")
        return run_internal_step("DBOS.getResult", lambda: outcomes.result(workflow_id, polling_interval_sec),
                                 child_workflow_id=workflow_id)  # fmt: skip

    @classmethod
    async def get_result_async(cls, workflow_id: str, *, polling_interval_sec: float | None = None) -> Any:
        """Async twin of :meth:`get_result`."""
        return await run_internal_step_async(
            "DBOS.getResult", lambda: outcomes.result_async(workflow_id, polling_interval_sec),
            child_workflow_id=workflow_id,
        )

    @classmethod
    def get_workflow_status(cls, workflow_id: str) -> WorkflowStatus | None:
        """Return the status row of a workflow, or ``None`` (one step in a workflow)."""
        check_async("get_workflow_status")
        return run_internal_step("DBOS.getStatus", lambda: introspection.get_status(workflow_id))

    @classmethod
    async def get_workflow_status_async(cls, workflow_id: str) -> WorkflowStatus | None:
        """Async twin of :meth:`get_workflow_status`."""
        return await run_internal_step_async("DBOS.getStatus",
                                             lambda: introspection.get_status_async(workflow_id))  # fmt: skip

    @classmethod
    def list_workflow_steps(cls, workflow_id: str) -> list[StepInfo]:
        """Return every checkpoint of a workflow, in order (one step in a workflow)."""
        check_async("list_workflow_steps")
        return run_internal_step("DBOS.listWorkflowSteps", lambda: introspection.list_steps(workflow_id))

    @classmethod
    async def list_workflow_steps_async(cls, workflow_id: str) -> list[StepInfo]:
        """Async twin of :meth:`list_workflow_steps`."""
        return await run_internal_step_async("DBOS.listWorkflowSteps",
                                             lambda: db(introspection.list_steps, workflow_id))  # fmt: skip

    @classmethod
    def run_step(cls, step_options: StepOptions | None, func: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run any callable as a checkpointed step.

        ``step_options`` (a :class:`StepOptions`, or ``None``) takes the parameters of :meth:`step`; the name
        defaults to the callable's ``__qualname__``. Outside a workflow it is a plain call.
        """
        return steps.run(_step_config(step_options, func), func, args, kwargs)

    @classmethod
    async def run_step_async(cls, step_options: StepOptions | None, func: Callable[..., Any], *args: Any,
                             **kwargs: Any) -> Any:  # fmt: skip
        """Async twin of :meth:`run_step`: an ``async def`` ``func`` is awaited, a sync one runs in a thread."""
        config = _step_config(step_options, func)
        if inspect.iscoroutinefunction(func):
            return await steps.run_async(config, func, args, kwargs)
        return await steps.run_async(config, lambda *a, **k: db(func, *a, **k), args, kwargs)

    @classmethod
    def sleep(cls, seconds: float) -> None:
        """Sleep durably: a recovered workflow sleeps only what was left.

        In a workflow the wake-up time is checkpointed first (one step number), and a cancellation or the workflow's
        deadline cuts the sleep short; elsewhere it is a plain sleep. ``seconds <= 0`` returns at once. Raise
        ``DBOSInvalidArgumentError`` unless ``seconds`` is a finite number.
        """
        check_async("sleep")
        sleep.sleep(seconds)

    @classmethod
    async def sleep_async(cls, seconds: float) -> None:
        """Async twin of :meth:`sleep`: the wait holds no thread."""
        await sleep.sleep_async(seconds)

    # Queues
    @classmethod
    def enqueue_workflow(cls, queue_name: str, func: Callable[..., R], *args: Any, **kwargs: Any) -> WorkflowHandle[R]:
        """Enqueue a workflow on a queue by name (a queue registered in the database, or declared in code).

        Return its handle at once (the row is written in the caller's open ``transaction.atomic()``, if any).
        Raise ``DBOSInvalidArgumentError`` for an unknown queue or invalid :class:`SetEnqueueOptions`, and
        ``DBOSQueueDeduplicatedError`` if another workflow on the queue holds the deduplication id (unless
        ``duplication_policy="return-existing"``, which returns a handle on that one).
        """
        return enqueue.enqueue(queue_name, func, args, kwargs)

    @classmethod
    async def enqueue_workflow_async(cls, queue_name: str, func: Callable[..., Any], *args: Any,
                                     **kwargs: Any) -> WorkflowHandleAsync[Any]:  # fmt: skip
        """Async twin of :meth:`enqueue_workflow`; return a :class:`WorkflowHandleAsync`."""
        return await enqueue.enqueue_async(queue_name, func, args, kwargs)

    @classmethod
    def register_queue(cls, name: str, **limits: Any) -> Queue:
        """Store a queue in the database: its limits can change at run time, and every worker serves it.

        ``limits`` are :class:`Queue`'s keyword arguments, and ``on_conflict``: ``"never_update"`` keeps an existing
        row, ``"update_if_latest_version"`` (the default) and ``"always_update"`` replace its limits. Return the
        :class:`Queue`. Raise ``DBOSInvalidArgumentError`` for invalid limits or ``on_conflict``.
        """
        return queue_admin.register(name, **limits)

    @classmethod
    async def register_queue_async(cls, name: str, **limits: Any) -> Queue:
        """Async twin of :meth:`register_queue`."""
        return await db(queue_admin.register, name, **limits)

    # Control
    @classmethod
    def cancel_workflow(cls, workflow_id: str, *, cancel_children: bool = False) -> None:
        """Cancel a workflow: it stops at its next checkpoint; waiters get ``DBOSAwaitedWorkflowCancelledError``."""
        cls.cancel_workflows([workflow_id], cancel_children=cancel_children)

    @classmethod
    async def cancel_workflow_async(cls, workflow_id: str, *, cancel_children: bool = False) -> None:
        """Async twin of :meth:`cancel_workflow`."""
        await cls.cancel_workflows_async([workflow_id], cancel_children=cancel_children)

    @classmethod
    def cancel_workflows(cls, workflow_ids: list[str], *, cancel_children: bool = False) -> None:
        """Cancel several workflows (and, with ``cancel_children``, their descendants); one step in a workflow.

        Running ones stop at their next checkpoint, and queued ones leave their queue. Workflows that ended in SUCCESS
        or ERROR keep their status; unknown ids are passed over. Raise ``DBOSInvalidArgumentError`` if ``workflow_ids``
        is not a list of ids.
        """
        check_async("cancel_workflows")
        run_internal_step("DBOS.cancelWorkflow", lambda: control.cancel(workflow_ids, cancel_children=cancel_children))

    @classmethod
    async def cancel_workflows_async(cls, workflow_ids: list[str], *, cancel_children: bool = False) -> None:
        """Async twin of :meth:`cancel_workflows`."""
        await run_internal_step_async("DBOS.cancelWorkflow", lambda: db(control.cancel, workflow_ids,
                                                                        cancel_children=cancel_children))  # fmt: skip

    @classmethod
    def resume_workflow(cls, workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandle[Any]:
        """Resume a cancelled or stuck workflow from its last checkpoint; return a handle on it.

        See :meth:`resume_workflows`. Raise ``DBOSNonExistentWorkflowError`` for an unknown id.
        """
        return cls.resume_workflows([workflow_id], queue_name=queue_name)[0]

    @classmethod
    async def resume_workflow_async(cls, workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandleAsync[Any]:
        """Async twin of :meth:`resume_workflow`; return a :class:`WorkflowHandleAsync`."""
        return (await cls.resume_workflows_async([workflow_id], queue_name=queue_name))[0]

    @classmethod
    def resume_workflows(cls, workflow_ids: list[str], *, queue_name: str | None = None) -> list[WorkflowHandle[Any]]:
        """Resume several workflows from their last checkpoint; return a handle on each (one step in a workflow).

        Each one that has not ended in SUCCESS or ERROR goes back on ``queue_name`` (default: DBOS's internal queue)
        as ENQUEUED, with its recovery attempts and deadline reset. Raise ``DBOSNonExistentWorkflowError`` for an
        unknown id and ``DBOSInvalidArgumentError`` for an unknown queue or ids that are not a list.
        """
        check_async("resume_workflows")
        run_internal_step("DBOS.resumeWorkflow", lambda: control.resume_all(workflow_ids, queue_name=queue_name))
        return [WorkflowHandle(w) for w in workflow_ids]

    @classmethod
    async def resume_workflows_async(cls, workflow_ids: list[str], *,
                                     queue_name: str | None = None) -> list[WorkflowHandleAsync[Any]]:  # fmt: skip
        """Async twin of :meth:`resume_workflows`; return :class:`WorkflowHandleAsync` handles."""
        await run_internal_step_async("DBOS.resumeWorkflow", lambda: db(control.resume_all, workflow_ids,
                                                                        queue_name=queue_name))  # fmt: skip
        return [WorkflowHandleAsync(w) for w in workflow_ids]

    @classmethod
    def fork_workflow(cls, workflow_id: str, start_step: int, *, application_version: str | None = None,
                      queue_name: str | None = None, queue_partition_key: str | None = None,
                      timeout_seconds: float | None = None) -> WorkflowHandle[Any]:  # fmt: skip
        """Start a new workflow that reuses the checkpoints before ``start_step`` (1: run it all again).

        The fork (id from :class:`SetWorkflowID`, else a UUID) takes the original's inputs and is enqueued on
        ``queue_name`` (default: DBOS's internal queue); one step in a workflow. Raise ``DBOSInvalidArgumentError``
        for a step below 1, a timeout that is not positive or an unknown queue, and ``DBOSNonExistentWorkflowError``
        for an unknown workflow.
        """
        check_async("fork_workflow")
        new_id = run_internal_step("DBOS.forkWorkflow", lambda: control.fork(
            workflow_id, start_step, application_version=application_version, queue_name=queue_name,
            queue_partition_key=queue_partition_key, timeout_seconds=timeout_seconds).workflow_id)  # fmt: skip
        return WorkflowHandle(new_id)

    @classmethod
    async def fork_workflow_async(cls, workflow_id: str, start_step: int, *, application_version: str | None = None,
                                  queue_name: str | None = None, queue_partition_key: str | None = None,
                                  timeout_seconds: float | None = None) -> WorkflowHandleAsync[Any]:  # fmt: skip
        """Async twin of :meth:`fork_workflow`; return a :class:`WorkflowHandleAsync`."""
        handle = await run_internal_step_async("DBOS.forkWorkflow", lambda: db(
            control.fork, workflow_id, start_step, application_version=application_version, queue_name=queue_name,
            queue_partition_key=queue_partition_key, timeout_seconds=timeout_seconds))  # fmt: skip
        return WorkflowHandleAsync(handle.workflow_id if isinstance(handle, WorkflowHandle) else handle)

    @classmethod
    def delete_workflow(cls, workflow_id: str, *, delete_children: bool = False) -> None:
        """Delete a workflow and its checkpoints (and, if asked, its descendants)."""
        cls.delete_workflows([workflow_id], delete_children=delete_children)

    @classmethod
    async def delete_workflow_async(cls, workflow_id: str, *, delete_children: bool = False) -> None:
        """Async twin of :meth:`delete_workflow`."""
        await cls.delete_workflows_async([workflow_id], delete_children=delete_children)

    @classmethod
    def delete_workflows(cls, workflow_ids: list[str], *, delete_children: bool = False) -> None:
        """Delete several workflows with their checkpoints (and, with ``delete_children``, their descendants).

        One step in a workflow; unknown ids are passed over. Raise ``DBOSInvalidArgumentError`` if ``workflow_ids`` is
        not a list of ids.
        """
        check_async("delete_workflows")
        run_internal_step("DBOS.deleteWorkflow", lambda: control.delete(workflow_ids, delete_children=delete_children))

    @classmethod
    async def delete_workflows_async(cls, workflow_ids: list[str], *, delete_children: bool = False) -> None:
        """Async twin of :meth:`delete_workflows`."""
        await run_internal_step_async("DBOS.deleteWorkflow", lambda: db(control.delete, workflow_ids,
                                                                        delete_children=delete_children))  # fmt: skip

    @classmethod
    def wait_first(cls, handles: list[Any], *, polling_interval_sec: float = 1.0) -> Any:
        """Wait until one of the workflows is no longer waiting or running; return its handle.

        One step in a workflow. Raise ``DBOSInvalidArgumentError`` for no handles or the same workflow twice.
        """
        check_async("wait_first")
        done = run_internal_step("DBOS.waitFirst", lambda: control.wait_first(
            handles, polling_interval_sec=polling_interval_sec).workflow_id)  # fmt: skip
        return next(h for h in handles if h.workflow_id == done)

    @classmethod
    async def wait_first_async(cls, handles: list[Any], *, polling_interval_sec: float = 1.0) -> Any:
        """Async twin of :meth:`wait_first`."""
        done = await run_internal_step_async("DBOS.waitFirst", lambda: db(lambda: control.wait_first(
            handles, polling_interval_sec=polling_interval_sec).workflow_id))  # fmt: skip
        return next(h for h in handles if h.workflow_id == done)

    dbos_class = staticmethod(dbos_class)
    scheduled = staticmethod(schedule_api.scheduled)

    # Schedules
    @classmethod
    def create_schedule(cls, *, schedule_name: str, workflow_fn: Callable[..., Any], schedule: str,
                        context: Any = None, automatic_backfill: bool = False, cron_timezone: str | None = None,
                        queue_name: str | None = None) -> None:  # fmt: skip
        """Store a cron schedule that starts ``workflow_fn(scheduled_time, context)`` at every tick.

        One step in a workflow. Raise ``DBOSException`` if the name is taken or ``workflow_fn`` is not a workflow,
        and ``DBOSInvalidArgumentError`` for an invalid cron expression, time zone or queue.
        """
        schedule_api.create(schedule_name=schedule_name, workflow_fn=workflow_fn, schedule=schedule, context=context,
                         automatic_backfill=automatic_backfill, cron_timezone=cron_timezone, queue_name=queue_name)  # fmt: skip

    @classmethod
    async def create_schedule_async(cls, *, schedule_name: str, workflow_fn: Callable[..., Any], schedule: str,
                                    context: Any = None, automatic_backfill: bool = False,
                                    cron_timezone: str | None = None, queue_name: str | None = None) -> None:  # fmt: skip
        """Async twin of :meth:`create_schedule`."""
        await db(schedule_api.create, schedule_name=schedule_name, workflow_fn=workflow_fn, schedule=schedule,
                 context=context, automatic_backfill=automatic_backfill, cron_timezone=cron_timezone,
                 queue_name=queue_name)  # fmt: skip

    @classmethod
    def list_schedules(cls, *, status: str | None = None, workflow_name: str | None = None,
                       schedule_name_prefix: str | None = None) -> list[WorkflowSchedule]:  # fmt: skip
        """Return the stored schedules by name, filtered by ``status`` (``"ACTIVE"`` or ``"PAUSED"``) and the others."""
        return schedule_api.list_all(status=status, workflow_name=workflow_name, schedule_name_prefix=schedule_name_prefix)

    @classmethod
    async def list_schedules_async(cls, *, status: str | None = None, workflow_name: str | None = None,
                                   schedule_name_prefix: str | None = None) -> list[WorkflowSchedule]:  # fmt: skip
        """Async twin of :meth:`list_schedules`."""
        return await db(schedule_api.list_all, status=status, workflow_name=workflow_name,
                        schedule_name_prefix=schedule_name_prefix)  # fmt: skip

    @classmethod
    def get_schedule(cls, name: str) -> WorkflowSchedule | None:
        """Return the schedule named ``name``, or ``None`` if there is none."""
        return schedule_api.get(name)

    @classmethod
    async def get_schedule_async(cls, name: str) -> WorkflowSchedule | None:
        """Async twin of :meth:`get_schedule`."""
        return await db(schedule_api.get, name)

    @classmethod
    def pause_schedule(cls, name: str) -> None:
        """Pause a schedule: it starts no workflow until :meth:`resume_schedule` (one step in a workflow).

        Raise ``DBOSException`` if there is no schedule of that name.
        """
        schedule_api.pause(name)

    @classmethod
    async def pause_schedule_async(cls, name: str) -> None:
        """Async twin of :meth:`pause_schedule`."""
        await db(schedule_api.pause, name)

    @classmethod
    def resume_schedule(cls, name: str) -> None:
        """Make a paused schedule active again (one step in a workflow).

        Raise ``DBOSException`` if there is no schedule of that name.
        """
        schedule_api.resume(name)

    @classmethod
    async def resume_schedule_async(cls, name: str) -> None:
        """Async twin of :meth:`resume_schedule`."""
        await db(schedule_api.resume, name)

    @classmethod
    def delete_schedule(cls, name: str) -> None:
        """Delete a schedule; a name with no schedule is passed over (one step in a workflow)."""
        schedule_api.delete(name)

    @classmethod
    async def delete_schedule_async(cls, name: str) -> None:
        """Async twin of :meth:`delete_schedule`."""
        await db(schedule_api.delete, name)

    @classmethod
    def apply_schedules(cls, schedules: list[ScheduleInput]) -> None:
        """Create or update several schedules atomically (not from within a workflow).

        Each entry is a ``ScheduleInput`` dict with the keyword arguments of :meth:`create_schedule`. Raise
        ``DBOSException`` in a workflow and ``DBOSInvalidArgumentError`` for an entry without ``schedule_name``,
        ``workflow_fn`` or ``schedule`` (nothing is written).
        """
        schedule_api.apply(schedules)

    @classmethod
    async def apply_schedules_async(cls, schedules: list[ScheduleInput]) -> None:
        """Async twin of :meth:`apply_schedules`."""
        await db(schedule_api.apply, schedules)

    @classmethod
    def backfill_schedule(cls, name: str, start: datetime, end: datetime) -> list[WorkflowHandle[Any]]:
        """Start the workflow for every tick strictly between ``start`` and ``end`` that has not run.

        Return a handle on each. Raise ``DBOSException`` if there is no such schedule and
        ``DBOSInvalidArgumentError`` unless ``start`` and ``end`` are datetimes.
        """
        return schedule_api.backfill(name, start, end)

    @classmethod
    async def backfill_schedule_async(cls, name: str, start: datetime, end: datetime) -> list[WorkflowHandleAsync[Any]]:
        """Async twin of :meth:`backfill_schedule`; return :class:`WorkflowHandleAsync` handles."""
        handles = await db(schedule_api.backfill, name, start, end)
        return [WorkflowHandleAsync(h.workflow_id) for h in handles]

    @classmethod
    def trigger_schedule(cls, name: str) -> WorkflowHandle[Any]:
        """Start the schedule's workflow now.

        Raise ``DBOSException`` if there is no schedule of that name.
        """
        return schedule_api.trigger(name)

    @classmethod
    async def trigger_schedule_async(cls, name: str) -> WorkflowHandleAsync[Any]:
        """Async twin of :meth:`trigger_schedule`; return a :class:`WorkflowHandleAsync`."""
        return WorkflowHandleAsync((await db(schedule_api.trigger, name)).workflow_id)

    # Messages, events, streams
    @classmethod
    def send(cls, destination_id: str, message: Any, topic: str | None = None, *,
             idempotency_key: str | None = None) -> None:  # fmt: skip
        """Send a message to a workflow on ``topic`` (one step in a workflow).

        With an ``idempotency_key`` it is sent once per destination, however often this is called. Raise
        ``DBOSNonExistentWorkflowError`` if the destination does not exist.
        """
        messaging.send(destination_id, message, topic, idempotency_key=idempotency_key)

    @classmethod
    async def send_async(cls, destination_id: str, message: Any, topic: str | None = None, *,
                         idempotency_key: str | None = None) -> None:  # fmt: skip
        """Async twin of :meth:`send`."""
        await wait_in_thread(messaging.send, destination_id, message, topic, idempotency_key=idempotency_key)

    @classmethod
    def send_bulk(cls, messages: list[SendMessage]) -> None:
        """Send several messages in one transaction (one step in a workflow).

        Raise ``DBOSNonExistentWorkflowError`` if a destination does not exist (nothing is sent) and
        ``DBOSException`` if an idempotency key appears twice in the batch.
        """
        messaging.send_bulk([(m.destination_id, m.message, m.topic, m.idempotency_key) for m in messages])

    @classmethod
    async def send_bulk_async(cls, messages: list[SendMessage]) -> None:
        """Async twin of :meth:`send_bulk`."""
        await wait_in_thread(cls.send_bulk, messages)

    @classmethod
    def recv(cls, topic: str | None = None, timeout_seconds: float = 60) -> Any:
        """Receive the oldest unconsumed message of ``topic`` (in a workflow); None after the timeout.

        It takes two step numbers: the receive, and its timeout, checkpointed first, so a recovered workflow waits
        only for what was left. Raise ``DBOSException`` outside a workflow.
        """
        check_async("recv")
        return messaging.recv(topic, timeout_seconds)

    @classmethod
    async def recv_async(cls, topic: str | None = None, timeout_seconds: float = 60) -> Any:
        """Async twin of :meth:`recv`: the wait holds no thread."""
        return await messaging.recv_async(topic, timeout_seconds)

    @classmethod
    def set_event(cls, key: str, value: Any) -> None:
        """Publish the latest value of an event of this workflow (from its body or a step).

        From the body it is one step; the value is also kept in the event's history. Raise ``DBOSException``
        outside a workflow.
        """
        messaging.set_event(key, value)

    @classmethod
    async def set_event_async(cls, key: str, value: Any) -> None:
        """Async twin of :meth:`set_event`."""
        await wait_in_thread(messaging.set_event, key, value)

    @classmethod
    def get_event(cls, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        """Wait for an event of a workflow; return its latest value, or None after the timeout.

        In a workflow it takes two step numbers (the read, and its timeout).
        """
        check_async("get_event")
        return messaging.get_event(workflow_id, key, timeout_seconds)

    @classmethod
    async def get_event_async(cls, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        """Async twin of :meth:`get_event`: the wait holds no thread."""
        return await messaging.get_event_async(workflow_id, key, timeout_seconds)

    @classmethod
    def get_all_events(cls, workflow_id: str) -> dict[str, Any]:
        """Return the current value of every event of a workflow (one step in a workflow)."""
        check_async("get_all_events")
        return messaging.get_all_events(workflow_id)

    @classmethod
    async def get_all_events_async(cls, workflow_id: str) -> dict[str, Any]:
        """Async twin of :meth:`get_all_events`."""
        return await wait_in_thread(messaging.get_all_events, workflow_id)

    @classmethod
    def write_stream(cls, key: str, value: Any) -> None:
        """Append a value to a stream of this workflow (from its body or a step).

        From the body it is one step. Raise ``DBOSException`` outside a workflow.
        """
        messaging.write_stream(key, value)

    @classmethod
    async def write_stream_async(cls, key: str, value: Any) -> None:
        """Async twin of :meth:`write_stream`."""
        await wait_in_thread(messaging.write_stream, key, value)

    @classmethod
    def close_stream(cls, key: str) -> None:
        """Close a stream of this workflow: readers end after its last value.

        From the body it is one step. Raise ``DBOSException`` outside a workflow.
        """
        messaging.close_stream(key)

    @classmethod
    async def close_stream_async(cls, key: str) -> None:
        """Async twin of :meth:`close_stream`."""
        await wait_in_thread(messaging.close_stream, key)

    @classmethod
    def read_stream(cls, workflow_id: str, key: str, *, offset: int = 0,
                    timeout_seconds: float | None = None) -> Iterator[Any]:  # fmt: skip
        """Yield the values of a workflow's stream in order until it is closed or its writer has ended.

        In a workflow each value read is checkpointed. Raise ``DBOSInvalidArgumentError`` for invalid arguments
        (at the call), ``DBOSNonExistentWorkflowError`` if the workflow does not exist, and ``DBOSStreamTimeoutError``
        if a value takes longer than ``timeout_seconds``.
        """
        check_async("read_stream")
        return messaging.read_stream(workflow_id, key, offset=offset, timeout_seconds=timeout_seconds)

    @classmethod
    def read_stream_async(cls, workflow_id: str, key: str, *, offset: int = 0,
                          timeout_seconds: float | None = None) -> AsyncIterator[Any]:  # fmt: skip
        """Async twin of :meth:`read_stream`: an async iterator (``async for``) whose waits hold no thread."""
        return messaging.read_stream_async(workflow_id, key, offset=offset, timeout_seconds=timeout_seconds)

    # Listing
    @classmethod
    def list_workflows(cls, *, load_input: bool = True, load_output: bool = True, **filters: Any) -> list[WorkflowStatus]:
        """Return the workflows matching every filter given (DBOS's filters), oldest first unless ``sort_desc``.

        One step in a workflow. Raise ``DBOSInvalidArgumentError`` for an unknown status or a negative ``limit`` or
        ``offset``, and ``TypeError`` for an unknown filter.
        """
        check_async("list_workflows")
        query = Filters(**filters)
        return run_internal_step("DBOS.listWorkflows", lambda: introspection.list_workflows(
            query, load_input=load_input, load_output=load_output))  # fmt: skip

    @classmethod
    async def list_workflows_async(cls, *, load_input: bool = True, load_output: bool = True,
                                   **filters: Any) -> list[WorkflowStatus]:  # fmt: skip
        """Async twin of :meth:`list_workflows`."""
        query = Filters(**filters)
        return await run_internal_step_async("DBOS.listWorkflows", lambda: db(introspection.list_workflows,
                                             query, load_input=load_input, load_output=load_output))  # fmt: skip

    @classmethod
    def list_queued_workflows(cls, *, load_input: bool = True, load_output: bool = True,
                              **filters: Any) -> list[WorkflowStatus]:  # fmt: skip
        """Return the queued workflows (ENQUEUED, PENDING or DELAYED on a queue unless a status is given)."""
        check_async("list_queued_workflows")
        query = Filters(**filters, queues_only=True)
        return run_internal_step("DBOS.listQueuedWorkflows", lambda: introspection.list_workflows(
            query, load_input=load_input, load_output=load_output))  # fmt: skip

    @classmethod
    async def list_queued_workflows_async(cls, *, load_input: bool = True, load_output: bool = True,
                                          **filters: Any) -> list[WorkflowStatus]:  # fmt: skip
        """Async twin of :meth:`list_queued_workflows`."""
        query = Filters(**filters, queues_only=True)
        return await run_internal_step_async("DBOS.listQueuedWorkflows", lambda: db(introspection.list_workflows,
                                             query, load_input=load_input, load_output=load_output))  # fmt: skip

    # Versioning
    @classmethod
    def patch(cls, name: str) -> bool:
        """Tell whether to run new code: True for a new execution (or one past this point), False for an old one.

        A new execution records a marker step here. Raise ``DBOSException`` outside a workflow or unless
        ``DBOS["ENABLE_PATCHING"]`` is set.
        """
        return patching.patch(name)

    @classmethod
    async def patch_async(cls, name: str) -> bool:
        """Async twin of :meth:`patch`."""
        return await db(patching.patch, name)

    @classmethod
    def deprecate_patch(cls, name: str) -> bool:
        """Retire a patch: executions that took it still replay; new ones need no marker. Always True.

        Raise ``DBOSException`` outside a workflow or unless ``DBOS["ENABLE_PATCHING"]`` is set.
        """
        return patching.deprecate_patch(name)

    @classmethod
    async def deprecate_patch_async(cls, name: str) -> bool:
        """Async twin of :meth:`deprecate_patch`."""
        return await db(patching.deprecate_patch, name)

    # Context accessors
    @classproperty
    def workflow_id(cls) -> str | None:
        """The id of the current workflow, in its body or one of its steps; ``None`` elsewhere."""
        ctx = current_workflow()
        return ctx.workflow_id if ctx else None

    @classproperty
    def step_id(cls) -> int | None:
        """The step number of the step or transaction running now; ``None`` outside one."""
        step = current_step()
        return step.function_id if step else None

    @classproperty
    def step_status(cls) -> StepStatus | None:
        """The :class:`StepStatus` of the step running now (with its attempt while retried); ``None`` outside one."""
        step = current_step()
        return StepStatus(step.function_id, step.current_attempt, step.max_attempts) if step else None

    @classproperty
    def logger(cls) -> logging.Logger:
        """The ``dbos_django`` logger."""
        return logger

    @classproperty
    def executor_id(cls) -> str:
        """The executor id of this process: the running runtime's, else ``DBOS["EXECUTOR_ID"]``."""
        runtime = rt.get()
        return runtime.executor_id if runtime else conf.get().executor_id

    @classproperty
    def application_version(cls) -> str:
        """The application version: the running runtime's, else the pinned one or a hash of the workflows' source."""
        runtime = rt.get()
        if runtime:
            return runtime.application_version
        settings = conf.get()
        return settings.version()


def _step_config(options: StepOptions | None, func: Callable[..., Any]) -> steps.StepConfig:
    settings: dict[str, Any] = dict(options or {})
    name = settings.pop("name", None) or getattr(func, "__qualname__", repr(func))
    return steps.StepConfig(name=name, **settings)
