"""Value types of the public API, as DBOS names them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

from .models import WorkflowStatusString


class StepInfo(TypedDict):
    """One checkpoint of a workflow, as ``DBOS.list_workflow_steps`` returns it."""

    #: The step number, from 1.
    function_id: int
    #: The step's name (DBOS's own calls are named ``DBOS.sleep``, ``DBOS.recv``...).
    function_name: str
    #: The recorded output.
    output: Any
    #: The recorded error, or ``None``.
    error: BaseException | None
    #: The child workflow this step started or waited for, if any.
    child_workflow_id: str | None
    #: When the step started, in epoch milliseconds.
    started_at_epoch_ms: int | None
    #: When the step ended, in epoch milliseconds.
    completed_at_epoch_ms: int | None


class StepOptions(TypedDict, total=False):
    """Options for ``DBOS.run_step``: the parameters of ``@DBOS.step``, all optional."""

    #: The name recorded in the checkpoint (default: the callable's ``__qualname__``).
    name: str
    #: Retry the callable when it raises (default: ``False``).
    retries_allowed: bool
    #: Seconds before the first retry (default: 1.0).
    interval_seconds: float
    #: Attempts in all, the first one included (default: 3).
    max_attempts: int
    #: How many times longer each wait is than the one before (default: 2.0).
    backoff_rate: float
    #: Called with the exception; a false result raises it at once instead of retrying.
    should_retry: Callable[[BaseException], bool]


@dataclass(frozen=True, slots=True)
class SendMessage:
    """One message of ``DBOS.send_bulk``."""

    #: The id of the workflow that receives it.
    destination_id: str
    #: The message: any value the configured serializer can store.
    message: Any
    #: The topic ``DBOS.recv`` takes it from (``None`` is a topic of its own).
    topic: str | None = None
    #: With a key, the message is sent once per destination, however often it is sent.
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class StepStatus:
    """Where the current step stands: its id, and its attempt while it is being retried."""

    #: The step number of the current step.
    step_id: int
    #: The attempt running now, from 1 (``None`` unless the step allows retries).
    current_attempt: int | None
    #: The step's ``max_attempts`` (``None`` unless the step allows retries).
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
