"""Value types of the public API, as DBOS names them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

from .models import WorkflowStatusString


class StepInfo(TypedDict):
    """One checkpoint of a workflow, as ``DBOS.list_workflow_steps`` returns it."""

    function_id: int
    function_name: str
    output: Any
    error: BaseException | None
    child_workflow_id: str | None
    started_at_epoch_ms: int | None
    completed_at_epoch_ms: int | None


class StepOptions(TypedDict, total=False):
    """Options for ``DBOS.run_step``."""

    name: str
    retries_allowed: bool
    interval_seconds: float
    max_attempts: int
    backoff_rate: float
    should_retry: Callable[[BaseException], bool]


@dataclass(frozen=True, slots=True)
class SendMessage:
    """One message of ``DBOS.send_bulk``."""

    destination_id: str
    message: Any
    topic: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class StepStatus:
    """Where the current step stands: its id, and its attempt while it is being retried."""

    step_id: int
    current_attempt: int | None
    max_attempts: int | None


@dataclass(slots=True, kw_only=True)
class WorkflowStatus:
    """A workflow's row, with inputs, output and error deserialized. Times are epoch milliseconds."""

    workflow_id: str
    status: str
    name: str
    class_name: str | None = None
    config_name: str | None = None
    authenticated_user: str | None = None
    assumed_role: str | None = None
    authenticated_roles: list[str] | None = None
    input: dict[str, Any] | None = None
    output: Any = None
    error: BaseException | None = None
    created_at: int | None = None
    updated_at: int | None = None
    queue_name: str | None = None
    executor_id: str | None = None
    app_version: str | None = None
    workflow_timeout_ms: int | None = None
    workflow_deadline_epoch_ms: int | None = None
    deduplication_id: str | None = None
    priority: int | None = None
    queue_partition_key: str | None = None
    forked_from: str | None = None
    was_forked_from: bool = False
    parent_workflow_id: str | None = None
    dequeued_at: int | None = None
    delay_until_epoch_ms: int | None = None
    completed_at: int | None = None
    application_name: str | None = None
    recovery_attempts: int | None = None


__all__ = ["SendMessage", "StepInfo", "StepOptions", "StepStatus", "WorkflowStatus", "WorkflowStatusString"]
