"""Where a call stands: inside which workflow, which step, with which pending options.

Built on contextvars so threads and asyncio tasks each see their own state; a
``WorkflowContext`` object is shared by reference between the tasks of one workflow,
so ``asyncio.gather`` of steps reserves ids in the order the tasks start.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..storage.records import Owner
from . import clock

if TYPE_CHECKING:
    from ..serialization import Serializer
    from ..storage.records import StepRecord
    from .runtime import Runtime


class ProcessDeath(BaseException):
    """Stands for the death of the process (``dbos_django.testing.simulate_crash``): nothing more is written."""


@dataclass(eq=False, slots=True)
class WorkflowContext:
    """The state of one running workflow execution."""

    workflow_id: str
    name: str
    runtime: Runtime
    alias: str
    serializer: Serializer
    recorded: dict[int, StepRecord] = field(default_factory=dict)
    next_id: int = 0
    deadline_ms: int | None = None
    cancelled: bool = False
    epoch: int = 0
    # Dispatched from a queue: if another execution owns it now, stop without waiting for its outcome.
    quiet: bool = False
    # Set with ``cancelled``: cuts a durable sleep short.
    interrupt: threading.Event = field(default_factory=threading.Event)

    def cancel_here(self) -> None:
        self.cancelled = True
        self.interrupt.set()

    @property
    def owner(self) -> Owner:
        return Owner(self.alias, self.workflow_id, self.epoch)

    def check_cancelled(self) -> None:
        """Stop before the next step if the workflow was cancelled (as far as this process knows) or timed out."""
        if not self.cancelled and self.deadline_ms is not None and clock.now_ms() >= self.deadline_ms:
            from ..storage import control

            control.cancel(self.alias, [self.workflow_id], clock.now_ms())
            self.cancel_here()
        if self.cancelled:
            from ..error import DBOSWorkflowCancelledError

            raise DBOSWorkflowCancelledError(f"Workflow {self.workflow_id} was cancelled")

    # Testing: the process "dies" before checkpointing anything past this step.
    crash_after: int | None = None

    def reserve(self, count: int = 1) -> int:
        """Take the next function id (and ``count - 1`` after it); return the first."""
        first = self.next_id + 1
        if self.crash_after is not None and first > self.crash_after:
            raise ProcessDeath(f"simulated crash of workflow {self.workflow_id} after step {self.crash_after}")
        self.next_id += count
        return first


@dataclass(slots=True)
class StepContext:
    """The step (or transaction) being run, for ``DBOS.step_id`` and ``DBOS.step_status``."""

    function_id: int
    current_attempt: int | None = None
    max_attempts: int | None = None
    is_transaction: bool = False


@dataclass(slots=True)
class AssignedID:
    """An id set by ``SetWorkflowID``, consumed by the first workflow started under it."""

    workflow_id: str
    used: bool = False


@dataclass(frozen=True, slots=True)
class StartOptions:
    """Options for the next workflow started in this scope."""

    assigned_id: AssignedID | None = None
    timeout_seconds: float | None = None
    timeout_set: bool = False
    authenticated_user: str | None = None
    authenticated_roles: tuple[str, ...] | None = None
    enqueue: EnqueueOptions | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnqueueOptions:
    """Options for the next enqueue in this scope (``SetEnqueueOptions``)."""

    deduplication_id: str | None = None
    priority: int | None = None
    app_version: str | None = None
    queue_partition_key: str | None = None
    delay_seconds: float | None = None
    duplication_policy: str = "reject"
    debounce_deadline: int | None = None  # set by the debouncer only (0: no deadline)


_workflow: contextvars.ContextVar[WorkflowContext | None] = contextvars.ContextVar("dbos_workflow", default=None)
_step: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar("dbos_step", default=None)
_options: contextvars.ContextVar[StartOptions] = contextvars.ContextVar(
    "dbos_options", default=StartOptions()  # noqa: B039 (frozen: every change makes a new object)
)


def current_workflow() -> WorkflowContext | None:
    return _workflow.get()


def current_step() -> StepContext | None:
    return _step.get()


def in_workflow_body() -> WorkflowContext | None:
    """The workflow whose body is running here, or None inside a step or outside workflows."""
    if _step.get() is not None:
        return None
    return _workflow.get()


def options() -> StartOptions:
    return _options.get()


def take_assigned_id() -> str | None:
    """Consume the ``SetWorkflowID`` id, if one is set and still unused."""
    assigned = _options.get().assigned_id
    if assigned is None or assigned.used:
        if assigned is not None:
            import logging

            logging.getLogger("dbos_django").warning(
                "SetWorkflowID(%r) was already used by a workflow in this block; using a new id",
                assigned.workflow_id,
            )
        return None
    assigned.used = True
    return assigned.workflow_id


class _Scope:
    """Set a context variable for the body of a ``with`` block."""

    def __init__(self, var: contextvars.ContextVar[Any], value: Any) -> None:
        self.var, self.value = var, value
        self.token: contextvars.Token[Any] | None = None

    def __enter__(self) -> None:
        self.token = self.var.set(self.value)

    def __exit__(self, *exc: object) -> None:
        assert self.token is not None
        self.var.reset(self.token)


def workflow_scope(ctx: WorkflowContext) -> _Scope:
    """Run a workflow body: its context, no step, and fresh options (they don't leak into children)."""
    return _WorkflowScope(ctx)


class _WorkflowScope(_Scope):
    def __init__(self, ctx: WorkflowContext) -> None:
        super().__init__(_workflow, ctx)
        self.inner: list[contextvars.Token[Any]] = []

    def __enter__(self) -> None:
        super().__enter__()
        self.inner = [_step.set(None), _options.set(StartOptions())]
        self.value.runtime.track(self.value)

    def __exit__(self, *exc: object) -> None:
        self.value.runtime.untrack(self.value)
        _options.reset(self.inner[1])  # type: ignore[arg-type]
        _step.reset(self.inner[0])  # type: ignore[arg-type]
        super().__exit__(*exc)


def step_scope(step: StepContext) -> _Scope:
    return _Scope(_step, step)


def options_scope(opts: StartOptions) -> _Scope:
    return _Scope(_options, opts)


class SetWorkflowIDScope(_Scope):
    """``SetWorkflowID`` for engine code (no validation, no public API)."""

    def __init__(self, workflow_id: str) -> None:
        import dataclasses

        super().__init__(_options, dataclasses.replace(_options.get(), assigned_id=AssignedID(workflow_id)))
