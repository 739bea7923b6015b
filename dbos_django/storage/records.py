"""Plain values passed between the engine and storage."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Owner:
    """Who may write a workflow's checkpoints: the execution holding its current ownership epoch."""

    alias: str
    workflow_id: str
    epoch: int = 0


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A checkpointed operation: ``output`` and ``error`` are serialized text."""

    function_id: int
    function_name: str
    output: str | None = None
    error: str | None = None
    child_workflow_id: str | None = None
    started_at_epoch_ms: int | None = None
    completed_at_epoch_ms: int | None = None

    def values(self) -> tuple[object, ...]:
        """The columns in order (``dataclasses.astuple`` deep-copies: too slow for the hot path)."""
        return (self.function_id, self.function_name, self.output, self.error, self.child_workflow_id,
                self.started_at_epoch_ms, self.completed_at_epoch_ms)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWorkflow:
    """The row a workflow start writes."""

    workflow_id: str
    status: str
    name: str
    class_name: str | None
    config_name: str | None
    inputs: str
    serialization: str
    executor_id: str | None
    application_version: str | None
    application_name: str
    created_at: int
    recovery_attempts: int
    owner_xid: str | None
    parent_workflow_id: str | None = None
    workflow_timeout_ms: int | None = None
    workflow_deadline_epoch_ms: int | None = None
    authenticated_user: str | None = None
    authenticated_roles: str | None = None
    queue_name: str | None = None
    deduplication_id: str | None = None
    priority: int = 0
    queue_partition_key: str | None = None
    delay_until_epoch_ms: int | None = None
    is_debounced: bool = False
    debounce_deadline_epoch_ms: int | None = None

    def values(self) -> tuple[object, ...]:
        """The columns in declaration order (the order of the INSERT)."""
        return tuple(getattr(self, name) for name in self.__slots__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ExistingWorkflow:
    """What a start learns about a row that already held its id."""

    status: str
    name: str
    class_name: str | None
    config_name: str | None
    queue_name: str | None
    owner_xid: str | None
    workflow_deadline_epoch_ms: int | None
    output: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    output: str | None
    error: str | None
    serialization: str | None


@dataclass(frozen=True, slots=True)
class ClaimedWorkflow:
    """A PENDING row taken for recovery."""

    workflow_id: str
    name: str
    class_name: str | None
    config_name: str | None
    inputs: str | None
    serialization: str | None
    recovery_attempts: int
    workflow_deadline_epoch_ms: int | None
    owner_epoch: int = 0
    queue_name: str | None = None
    queue_partition_key: str | None = None
