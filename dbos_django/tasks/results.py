"""A workflow's row, read as Django's ``TaskResult``."""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from typing import Any

from django.utils.module_loading import import_string

from ..error import PortableWorkflowError
from ..types import WorkflowStatus
from .compat import Task, TaskError, TaskResult, TaskResultDoesNotExist, TaskResultStatus

STATUS = {
    "ENQUEUED": TaskResultStatus.READY, "DELAYED": TaskResultStatus.READY, "PENDING": TaskResultStatus.RUNNING,
    "SUCCESS": TaskResultStatus.SUCCESSFUL, "ERROR": TaskResultStatus.FAILED, "CANCELLED": TaskResultStatus.FAILED,
    "MAX_RECOVERY_ATTEMPTS_EXCEEDED": TaskResultStatus.FAILED,
}  # fmt: skip
CANCELLED_ERROR = "dbos_django.error.DBOSAwaitedWorkflowCancelledError"
DEAD_LETTER_ERROR = "dbos_django.error.DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded"


def when(epoch_ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC) if epoch_ms is not None else None


def task_of(name: str) -> Task:
    """The ``Task`` a workflow runs: its name is the task's module path."""
    try:
        found = import_string(name)
    except ImportError as exc:
        raise TaskResultDoesNotExist(f"{name} is not a task") from exc
    if not isinstance(found, Task):
        raise TaskResultDoesNotExist(f"{name} is not a task")
    return found


def error_of(status: WorkflowStatus) -> list[TaskError]:
    if status.status == "CANCELLED":
        return [TaskError(exception_class_path=CANCELLED_ERROR, traceback=f"Workflow {status.workflow_id} was cancelled")]
    if status.status == "MAX_RECOVERY_ATTEMPTS_EXCEEDED":
        return [TaskError(exception_class_path=DEAD_LETTER_ERROR,
                          traceback=f"Workflow {status.workflow_id} exceeded its recovery attempts")]  # fmt: skip
    error = status.error
    if status.status != "ERROR" or not isinstance(error, BaseException):
        return []
    if isinstance(error, PortableWorkflowError):
        return [TaskError(exception_class_path=error.name, traceback=error.message)]
    kind = type(error)
    return [TaskError(exception_class_path=f"{kind.__module__}.{kind.__qualname__}",
                      traceback="".join(traceback.format_exception(error)))]  # fmt: skip


def to_result(status: WorkflowStatus, backend_alias: str, *, running: bool = False) -> TaskResult:
    """The task result of a workflow; ``running`` while its body runs (the row still says PENDING)."""
    inputs: dict[str, Any] = status.input or {"args": (), "kwargs": {}}
    args = list(inputs["args"])
    task = task_of(status.name)
    attempts = max(status.recovery_attempts or 0, 1 if running else 0)
    result = TaskResult(
        task=task, id=status.workflow_id, status=TaskResultStatus.RUNNING if running else STATUS[status.status],
        enqueued_at=when(status.created_at), started_at=when(status.dequeued_at),
        finished_at=when(status.completed_at), last_attempted_at=when(status.dequeued_at),
        args=args, kwargs=dict(inputs["kwargs"]), backend=backend_alias, errors=error_of(status),
        worker_ids=[status.executor_id or ""] * attempts,
    )  # fmt: skip
    if status.status == "SUCCESS":
        object.__setattr__(result, "_return_value", status.output)
    return result
