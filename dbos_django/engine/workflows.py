"""Workflows: start (one row), run the body with checkpoints, record the outcome (one guarded update).

Three ways in: a direct call (runs in the caller's thread or coroutine), ``start_workflow``
(runs on the runtime's pool or event loop) and recovery (``recovery.py``). All of them end in
``execute`` / ``execute_async``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction

from ..error import (
    DBOSBaseException,
    DBOSConflictingWorkflowError,
    DBOSException,
    DBOSSerializationError,
)
from ..models import TERMINAL_STATUSES
from ..serialization import Serializer, store_error, store_value, within_limit
from ..storage import connections as conns
from ..storage import steps as step_store
from ..storage import workflows as wf_store
from ..storage.records import ExistingWorkflow, NewWorkflow, StepRecord
from . import clock, outcomes
from . import runtime as rt
from .aio import db
from .classes import split_receiver
from .context import (
    ProcessDeath,
    WorkflowContext,
    current_step,
    in_workflow_body,
    options,
    take_assigned_id,
    workflow_scope,
)
from .handles import WorkflowHandle, WorkflowHandleAsync
from .registry import WorkflowInfo
from .steps import encode, replay

logger = logging.getLogger("dbos_django")

SQLITE_ATOMIC_MESSAGE = (
    "Workflow {name} was called directly inside an open transaction.atomic() on SQLite database {alias!r}. "
    "SQLite has a single write lock, which the open transaction holds, so the workflow's checkpoints "
    "cannot commit on their own. Either start it with DBOS.start_workflow() (it runs after the "
    "transaction commits), or take the view out of ATOMIC_REQUESTS with @transaction.non_atomic_requests."
)


@dataclass(slots=True)
class Start:
    """A workflow about to start: its row, and where it sits under a parent."""

    info: WorkflowInfo
    row: NewWorkflow
    parent: WorkflowContext | None
    function_id: int | None  # the parent's step holding the child marker
    alias: str


def _prepare(runtime: rt.Runtime, info: WorkflowInfo, args: tuple[Any, ...], kwargs: dict[str, Any],
             *, alias: str, ids: int) -> Start:  # fmt: skip
    if options().enqueue is not None:
        raise DBOSException(f"Enqueue option(s) set on workflow {info.name}, which is not being enqueued: "
                            "use Queue.enqueue() inside SetEnqueueOptions")  # fmt: skip
    parent = in_workflow_body()
    assigned = take_assigned_id()
    function_id = parent.reserve(ids) if parent else None
    if parent is not None:
        workflow_id = assigned or f"{parent.workflow_id}-{function_id}"
    else:
        workflow_id = assigned or str(uuid.uuid4())
    class_name, config_name, stored_args = split_receiver(info, args)
    serializer = runtime.settings.serializer
    inputs = serialize_inputs(serializer, info.name, stored_args, kwargs)
    now = clock.now_ms()
    timeout_ms, deadline = timeout_and_deadline(parent, now, queued=False)
    row = NewWorkflow(
        workflow_id=workflow_id, status="PENDING", name=info.name, class_name=class_name,
        config_name=config_name, inputs=inputs, serialization=serializer.name(), executor_id=runtime.executor_id,
        application_version=runtime.application_version,
        application_name=runtime.settings.application_name, created_at=now, recovery_attempts=1,
        owner_xid=uuid.uuid4().hex, parent_workflow_id=parent.workflow_id if parent else None,
        workflow_timeout_ms=timeout_ms, workflow_deadline_epoch_ms=deadline,
    )  # fmt: skip
    return Start(info, row, parent, function_id, alias)


def serialize_inputs(serializer: Serializer, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The stored inputs (without self/cls); raise before anything is written if they cannot be stored."""
    try:
        text = serializer.serialize({"args": list(args), "kwargs": kwargs})
    except DBOSSerializationError as exc:
        raise DBOSSerializationError(f"Cannot store the inputs of workflow {name}: {exc.message}") from exc
    return within_limit(text, f"The inputs of workflow {name}")


def timeout_and_deadline(parent: WorkflowContext | None, now_ms: int, *, queued: bool) -> tuple[int | None, int | None]:
    """``SetWorkflowTimeout`` in scope wins; else a child inherits its parent's absolute deadline.

    A queued workflow's deadline is computed when it is dequeued, from its timeout.
    """
    opts = options()
    if opts.timeout_set:
        if opts.timeout_seconds is None:
            return None, None  # SetWorkflowTimeout(None): detached from the parent's deadline
        timeout_ms = int(opts.timeout_seconds * 1000)
        return timeout_ms, None if queued else now_ms + timeout_ms
    return None, parent.deadline_ms if parent else None


def check_same_function(row: NewWorkflow, existing: ExistingWorkflow) -> None:
    """Raise ``DBOSConflictingWorkflowError`` if the id already belongs to another function or instance."""
    if existing.name != row.name:
        raise DBOSConflictingWorkflowError(
            row.workflow_id,
            f"Workflow already exists with a different function name: {existing.name}, "
            f"but the provided function name is: {row.name}",
        )
    if (existing.class_name, existing.config_name) != (row.class_name, row.config_name):
        raise DBOSConflictingWorkflowError(
            row.workflow_id,
            f"Workflow already exists with class {existing.class_name} and instance {existing.config_name}",
        )


def _insert(start: Start) -> ExistingWorkflow | None:
    """Write the row (and the parent's marker); return what already held the id, if anything."""
    if start.parent is None:
        existing = wf_store.insert(start.alias, start.row)
    else:
        marker = StepRecord(start.function_id or 0, start.info.name, None, None, start.row.workflow_id,
                            start.row.created_at, start.row.created_at)  # fmt: skip
        created = step_store.start_child(start.parent.owner, marker, start.row)
        existing = None if created else wf_store.insert(start.alias, start.row)
    if existing is not None:
        check_same_function(start.row, existing)
    return existing


def _replayed_child(start: Start) -> str | None:
    """The id of the child a replaying parent already started at this step, if any."""
    if start.parent is None or start.function_id is None:
        return None
    recorded = start.parent.recorded.get(start.function_id)
    if recorded is None:
        return None
    replay(start.parent, start.function_id, start.info.name, recorded)  # raises a recorded error
    return recorded.child_workflow_id


def _context(runtime: rt.Runtime, start: Start) -> WorkflowContext:
    return WorkflowContext(
        workflow_id=start.row.workflow_id, name=start.info.name, runtime=runtime, alias=start.alias,
        serializer=runtime.settings.serializer, deadline_ms=start.row.workflow_deadline_epoch_ms,
    )  # fmt: skip


def _finish(wf: WorkflowContext, value: Any,
            error: BaseException | None) -> tuple[str, str | None, str | None, BaseException | None]:  # fmt: skip
    """Serialize the outcome; an output that cannot be stored (or is too large) makes the workflow end in ERROR.

    Return the status, the stored output or error, and the error to raise.
    """
    if error is None:
        try:
            return "SUCCESS", store_value(wf.serializer, value, f"The output of workflow {wf.workflow_id}"), None, None
        except DBOSSerializationError as exc:
            error = exc
    text, error = store_error(wf.serializer, error, f"The error of workflow {wf.workflow_id}")
    return "ERROR", None, text, error


class Parked(Exception):
    """The body stopped at a checkpoint it may not write (cancelled, or another execution owns it)."""


def _record(wf: WorkflowContext, value: Any, error: BaseException | None) -> Any:
    """Record the outcome of a body that ran; return its value or raise its error."""
    if isinstance(error, Parked):
        if wf.quiet:
            raise error
        return outcomes.result(wf.workflow_id)
    status, output, err_text, error = _finish(wf, value, error)
    if not wf_store.record_outcome(wf.owner, status, output, err_text, clock.now_ms()):
        if wf.quiet:
            raise Parked()
        return outcomes.result(wf.workflow_id)  # cancelled, resumed or finished meanwhile: its outcome wins
    wf.runtime.notify_done()
    if status == "ERROR":
        raise error if error is not None else DBOSSerializationError("unserializable output")
    return value


def _settle(wf: WorkflowContext, value: Any, error: BaseException | None) -> Any:
    # Leave the in-process map before writing, so a racing resume never waits on this execution.
    future = wf.runtime.release(wf.workflow_id)
    if wf.crash_after is not None and not isinstance(error, Parked):
        raise ProcessDeath(f"simulated crash of workflow {wf.workflow_id} before its outcome")
    try:
        value = _record(wf, value, error)
    except BaseException as exc:
        if future is not None:
            future.set_exception(exc)
        raise
    if future is not None:
        future.set_result(value)
    return value


def execute(wf: WorkflowContext, info: WorkflowInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run a sync workflow body and record its outcome; a parked execution returns the recorded one."""
    value: Any = None
    error: BaseException | None = None
    with workflow_scope(wf):
        try:
            value = info.func(*args, **kwargs)
        except ProcessDeath:
            wf.runtime.release(wf.workflow_id)
            raise
        except DBOSBaseException:
            error = Parked()
        except Exception as exc:
            error = exc
    return _settle(wf, value, error)


async def execute_async(wf: WorkflowContext, info: WorkflowInfo, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Any:  # fmt: skip
    value: Any = None
    error: BaseException | None = None
    with workflow_scope(wf):
        try:
            value = await info.func(*args, **kwargs)
        except DBOSBaseException:
            error = Parked()
        except Exception as exc:
            error = exc
    return await db(_settle, wf, value, error)


def _direct_alias(runtime: rt.Runtime, info: WorkflowInfo) -> str:
    parent = in_workflow_body()
    if parent is not None:
        return parent.alias
    if runtime.testing:
        return runtime.alias  # the test's own connection, inside the test's transaction
    alias = conns.checkpoint_alias(runtime.alias)
    if alias is None:
        raise DBOSException(SQLITE_ATOMIC_MESSAGE.format(name=info.name, alias=runtime.alias))
    return alias


def _record_child_result(start: Start, value: Any, error: BaseException | None) -> None:
    """A parent that called a child directly checkpoints the child's result (``DBOS.getResult``)."""
    parent = start.parent
    if parent is None or start.function_id is None:
        return
    record, _ = encode(parent, start.function_id + 1, "DBOS.getResult", clock.now_ms(), value, error,
                       start.row.workflow_id)  # fmt: skip
    step_store.record(parent.owner, record)


def _existing_result(runtime: rt.Runtime, workflow_id: str, existing: ExistingWorkflow) -> Any:
    """The result of a workflow someone else started: wait on it here if it runs here, else poll."""
    if existing.status not in TERMINAL_STATUSES:
        future = runtime.running(workflow_id)
        if future is not None:
            try:
                return future.result()
            except Parked:
                pass
    return outcomes.result(workflow_id)


def call(info: WorkflowInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A direct call of a sync workflow."""
    if current_step() is not None:
        return info.func(*args, **kwargs)  # inside a step, a workflow is a plain function
    runtime = rt.current()
    start = _prepare(runtime, info, args, kwargs, alias=_direct_alias(runtime, info), ids=2)
    parent = start.parent
    if parent is not None and start.function_id is not None:
        recorded = parent.recorded.get(start.function_id + 1)
        if recorded is not None:
            return replay(parent, start.function_id + 1, "DBOS.getResult", recorded)
    child_id = _replayed_child(start)
    value, error = None, None
    try:
        if child_id is not None:
            value = outcomes.result(child_id)
        else:
            existing = _insert(start)
            if existing is not None:
                value = _existing_result(runtime, start.row.workflow_id, existing)
            else:
                runtime.activate(start.row.workflow_id)
                value = execute(_context(runtime, start), info, args, kwargs)
    except Exception as exc:
        error = exc
    _record_child_result(start, value, error)
    if error is not None:
        raise error
    return value


async def call_async(info: WorkflowInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A direct call of an async workflow, on the caller's event loop."""
    if current_step() is not None:
        return await info.func(*args, **kwargs)
    runtime = rt.current()
    parent = in_workflow_body()
    alias = parent.alias if parent else runtime.alias
    start = _prepare(runtime, info, args, kwargs, alias=alias, ids=2)
    if parent is not None and start.function_id is not None:
        recorded = parent.recorded.get(start.function_id + 1)
        if recorded is not None:
            return replay(parent, start.function_id + 1, "DBOS.getResult", recorded)
    child_id = _replayed_child(start)
    value, error = None, None
    try:
        if child_id is not None:
            value = await outcomes.result_async(child_id)
        else:
            existing = await db(_insert, start)
            if existing is not None:
                value = await db(_existing_result, runtime, start.row.workflow_id, existing)
            else:
                runtime.activate(start.row.workflow_id)
                value = await execute_async(_context(runtime, start), info, args, kwargs)
    except Exception as exc:
        error = exc
    await db(_record_child_result, start, value, error)
    if error is not None:
        raise error
    return value


def _launch(runtime: rt.Runtime, wf: WorkflowContext, info: WorkflowInfo, args: tuple[Any, ...],
            kwargs: dict[str, Any]) -> Future[Any]:  # fmt: skip
    """Run a started workflow in the background: a thread for sync bodies, the loop for async ones."""
    running = runtime.activate(wf.workflow_id)
    if running is not None:
        return running
    if runtime.testing:
        runtime.inline.append((wf, info, args, kwargs))
        return runtime.running(wf.workflow_id)  # type: ignore[return-value]
    if info.is_async:
        return runtime.count_running(asyncio.run_coroutine_threadsafe(execute_async(wf, info, args, kwargs),
                                                                      runtime.loop()))  # fmt: skip
    return runtime.submit(execute, wf, info, args, kwargs)


def _begin(runtime: rt.Runtime, info: WorkflowInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Start | str:
    """Write a started workflow's row; return the id of an existing workflow instead if there is one."""
    parent = in_workflow_body()
    start = _prepare(runtime, info, args, kwargs, alias=parent.alias if parent else runtime.alias, ids=1)
    child_id = _replayed_child(start)
    if child_id is not None:
        return child_id
    if _insert(start) is not None:
        return start.row.workflow_id
    return start


def start(info: WorkflowInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> WorkflowHandle[Any]:
    """``DBOS.start_workflow``: write the row now, run the body in the background.

    Inside the caller's open ``atomic()`` the row is part of the caller's transaction and the
    body starts only once it commits; a rollback leaves nothing.
    """
    runtime = rt.current()
    begun = _begin(runtime, info, args, kwargs)
    if isinstance(begun, str):
        return WorkflowHandle(begun)
    wf = _context(runtime, begun)
    if connections[begun.alias].in_atomic_block and not runtime.testing:
        transaction.on_commit(lambda: _launch(runtime, wf, info, args, kwargs), using=begun.alias)
        return WorkflowHandle(wf.workflow_id)
    return WorkflowHandle(wf.workflow_id, _launch(runtime, wf, info, args, kwargs))


async def start_async(info: WorkflowInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> WorkflowHandleAsync[Any]:
    """``DBOS.start_workflow_async``: an async body runs as a task on the caller's loop."""
    runtime = rt.current()
    begun = await db(_begin, runtime, info, args, kwargs)
    if isinstance(begun, str):
        return WorkflowHandleAsync(begun)
    wf = _context(runtime, begun)
    if not info.is_async:
        return WorkflowHandleAsync(wf.workflow_id, asyncio.wrap_future(_launch(runtime, wf, info, args, kwargs)))
    if runtime.activate(wf.workflow_id) is not None:
        return WorkflowHandleAsync(wf.workflow_id)
    task = runtime.keep(asyncio.ensure_future(execute_async(wf, info, args, kwargs)))
    return WorkflowHandleAsync(wf.workflow_id, task)
