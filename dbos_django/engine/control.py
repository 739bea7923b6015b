"""Workflow control for the facade: cancel, resume, fork, delete, wait_first (and their effects here)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from .. import conf
from ..error import DBOSInvalidArgumentError
from ..storage import control as store
from ..storage.queues import INTERNAL_QUEUE
from . import arguments, clock
from . import runtime as rt
from .context import take_assigned_id
from .handles import WorkflowHandle
from .outcomes import FIRST_POLL_SECONDS


def _alias() -> str:
    runtime = rt.get()
    return runtime.alias if runtime else conf.get().database


def cancel(workflow_ids: list[str], *, cancel_children: bool = False) -> None:
    """Cancel workflows (and, if asked, their descendants). Running ones stop at their next checkpoint.

    Unknown ids are passed over (as DBOS); raise ``DBOSInvalidArgumentError`` for ids that are not strings.
    """
    workflow_ids = arguments.workflow_ids(workflow_ids)
    alias = _alias()
    ids = store.with_children(alias, workflow_ids) if cancel_children else workflow_ids
    store.cancel(alias, ids, clock.now_ms())
    runtime = rt.get()
    if runtime is not None:
        runtime.mark_cancelled(ids)
        runtime.notify_done()


def resume(workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandle[Any]:
    """Put a cancelled (or stuck) workflow back on a queue; it continues from its last checkpoint."""
    arguments.workflow_id(workflow_id)
    if queue_name is not None:
        arguments.known_queue(queue_name)
    store.resume(_alias(), workflow_id, queue_name, clock.now_ms())
    runtime = rt.get()
    if runtime is not None:
        runtime.wake_queue(queue_name or INTERNAL_QUEUE)
    return WorkflowHandle(workflow_id)


def resume_all(workflow_ids: list[str], *, queue_name: str | None = None) -> None:
    for workflow_id in arguments.workflow_ids(workflow_ids):
        resume(workflow_id, queue_name=queue_name)


def fork(workflow_id: str, start_step: int, *, application_version: str | None = None,
         queue_name: str | None = None, queue_partition_key: str | None = None,
         timeout_seconds: float | None = None) -> WorkflowHandle[Any]:  # fmt: skip
    """Start a new workflow that reuses the checkpoints before ``start_step`` and runs the rest again.

    Raise ``DBOSInvalidArgumentError`` for a step below 1, a timeout that is not positive or an unknown queue,
    and ``DBOSNonExistentWorkflowError`` for an unknown workflow.
    """
    arguments.workflow_id(workflow_id)
    arguments.integer(start_step, "start step", minimum=1)
    arguments.optional_text(application_version, "application version")
    if queue_name is not None:
        arguments.known_queue(queue_name)
    if queue_partition_key is not None:
        arguments.key(queue_partition_key, "queue_partition_key")
    if timeout_seconds is not None:
        arguments.positive_seconds(timeout_seconds, "timeout_seconds")
    new_id = take_assigned_id() or str(uuid.uuid4())
    timeout_ms = int(timeout_seconds * 1000) if timeout_seconds else None
    store.fork(_alias(), workflow_id, start_step, new_id=new_id, application_version=application_version,
               queue_name=queue_name, queue_partition_key=queue_partition_key, timeout_ms=timeout_ms,
               now_ms=clock.now_ms())  # fmt: skip
    runtime = rt.get()
    if runtime is not None:
        runtime.wake_queue(queue_name or INTERNAL_QUEUE)
    return WorkflowHandle(new_id)


def delete(workflow_ids: list[str], *, delete_children: bool = False) -> None:
    workflow_ids = arguments.workflow_ids(workflow_ids)
    alias = _alias()
    ids = store.with_children(alias, workflow_ids) if delete_children else workflow_ids
    store.delete(alias, ids)


def wait_first(handles: Sequence[Any], *, polling_interval_sec: float = 1.0) -> Any:
    """The first handle whose workflow is no longer waiting or running."""
    ids = [h.workflow_id for h in handles]
    if not ids:
        raise DBOSInvalidArgumentError("wait_first() needs at least one handle")
    if len(set(ids)) != len(ids):
        raise DBOSInvalidArgumentError("wait_first() was given the same workflow twice")
    arguments.positive_seconds(polling_interval_sec, "polling_interval_sec")
    delay = FIRST_POLL_SECONDS
    runtime = rt.get()
    if runtime is not None and runtime.testing:
        from ..error import DBOSException
        from .inline import drain

        drain(runtime)
        done = store.first_done(_alias(), ids)
        if done is None:
            raise DBOSException("wait_first(): none of the workflows can finish in this test")
        return handles[ids.index(done)]
    while True:
        done = store.first_done(_alias(), ids)
        if done is not None:
            return handles[ids.index(done)]
        runtime = rt.get()
        if runtime is not None:
            runtime.wait_done(delay)
        else:
            time.sleep(delay)
        delay = min(delay * 2, polling_interval_sec)


def move_to_current_version(workflow_ids: list[str]) -> int:
    """Let this deployment's workers run workflows pinned to an old version; they continue from their last step."""
    version = conf.get().version()
    moved = store.move_to_version(_alias(), workflow_ids, version, clock.now_ms())
    runtime = rt.get()
    if runtime is not None:
        runtime.wake_queue(None)
    return moved
