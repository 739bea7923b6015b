"""Reading workflows and their steps back as public value types."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import conf
from ..models import Workflow
from ..serialization import Serializer, for_tag
from ..storage import listing
from ..storage import steps as step_store
from ..storage import workflows as wf_store
from ..storage.listing import Filters
from ..types import StepInfo, WorkflowStatus
from . import arguments
from . import runtime as rt
from .aio import db

logger = logging.getLogger("dbos_django")


def _alias() -> str:
    runtime = rt.get()
    return runtime.alias if runtime else conf.get().database


def _safe(read: Callable[[str], Any], text: str | None, what: str) -> Any:
    """Deserialize for introspection: an unreadable value comes back as its raw text, with a warning."""
    if text is None:
        return None
    try:
        return read(text)
    except Exception as exc:
        logger.warning("Could not deserialize %s (%s); returning the stored text", what, exc)
        return text


def _inputs(serializer: Serializer, text: str | None, workflow_id: str) -> dict[str, Any] | None:
    value = _safe(serializer.deserialize, text, f"the inputs of {workflow_id}")
    if isinstance(value, dict) and "args" in value:
        return {"args": tuple(value["args"]), "kwargs": value.get("kwargs", {})}
    return value


def to_status(row: Workflow, *, load_input: bool = True, load_output: bool = True) -> WorkflowStatus:
    try:
        serializer = for_tag(row.serialization, conf.get().serializer)
    except TypeError:
        serializer = conf.get().serializer
    wid = row.workflow_id
    return WorkflowStatus(
        workflow_id=wid, status=row.status, name=row.name, class_name=row.class_name,
        config_name=row.config_name, authenticated_user=row.authenticated_user,
        assumed_role=row.assumed_role,
        input=_inputs(serializer, row.inputs, wid) if load_input else None,
        output=_safe(serializer.deserialize, row.output, f"the output of {wid}") if load_output else None,
        error=_safe(serializer.deserialize_error, row.error, f"the error of {wid}") if load_output else None,
        created_at=row.created_at, updated_at=row.updated_at, queue_name=row.queue_name,
        executor_id=row.executor_id, app_version=row.application_version,
        workflow_timeout_ms=row.workflow_timeout_ms, workflow_deadline_epoch_ms=row.workflow_deadline_epoch_ms,
        deduplication_id=row.deduplication_id, priority=row.priority,
        queue_partition_key=row.queue_partition_key, forked_from=row.forked_from,
        parent_workflow_id=row.parent_workflow_id, dequeued_at=row.started_at,
        delay_until_epoch_ms=row.delay_until_epoch_ms, completed_at=row.completed_at,
        application_name=row.application_name, recovery_attempts=row.recovery_attempts,
    )  # fmt: skip


def get_status(workflow_id: str) -> WorkflowStatus | None:
    arguments.workflow_id(workflow_id)
    row = wf_store.get(_alias(), workflow_id)
    return to_status(row) if row is not None else None


async def get_status_async(workflow_id: str) -> WorkflowStatus | None:
    return await db(get_status, workflow_id)


def list_steps(workflow_id: str) -> list[StepInfo]:
    arguments.workflow_id(workflow_id)
    serializer = conf.get().serializer
    return [
        StepInfo(
            function_id=r.function_id, function_name=r.function_name,
            output=_safe(serializer.deserialize, r.output, f"step {r.function_id} of {workflow_id}"),
            error=_safe(serializer.deserialize_error, r.error, f"step {r.function_id} of {workflow_id}"),
            child_workflow_id=r.child_workflow_id, started_at_epoch_ms=r.started_at_epoch_ms,
            completed_at_epoch_ms=r.completed_at_epoch_ms,
        )  # fmt: skip
        for r in step_store.list_steps(_alias(), workflow_id)
    ]


def list_workflows(filters: Filters, *, load_input: bool = True, load_output: bool = True) -> list[WorkflowStatus]:
    rows = listing.list_rows(_alias(), filters, load_input=load_input, load_output=load_output)
    return [to_status(row, load_input=load_input, load_output=load_output) for row in rows]
