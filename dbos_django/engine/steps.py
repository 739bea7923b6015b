"""Steps: run once, checkpoint the output (or the error), replay it on recovery."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..error import (
    DBOSException,
    DBOSInvalidArgumentError,
    DBOSMaxStepRetriesExceeded,
    DBOSSerializationError,
    DBOSUnexpectedStepError,
)
from ..serialization import store_error, store_value
from ..storage import steps as step_store
from ..storage.records import StepRecord
from . import arguments, clock
from .aio import db
from .context import StepContext, WorkflowContext, current_step, in_workflow_body, step_scope

MAX_RETRY_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StepConfig:
    """How a step is retried."""

    name: str
    retries_allowed: bool = False
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0
    should_retry: Callable[[BaseException], Any] | None = None

    def __post_init__(self) -> None:
        arguments.integer(self.max_attempts, f"max_attempts of step {self.name}", minimum=1)
        interval = arguments.seconds(self.interval_seconds, f"interval_seconds of step {self.name}")
        rate = arguments.seconds(self.backoff_rate, f"backoff_rate of step {self.name}")
        if interval < 0 or rate <= 0:
            raise DBOSInvalidArgumentError(f"Step {self.name}: interval_seconds must be >= 0 and backoff_rate > 0")

    def delay(self, attempt: int) -> float:
        return min(self.interval_seconds * self.backoff_rate ** (attempt - 1), MAX_RETRY_INTERVAL_SECONDS)

    @property
    def attempts(self) -> int:
        return self.max_attempts if self.retries_allowed else 1


def replay(wf: WorkflowContext, function_id: int, name: str, record: StepRecord) -> Any:
    """Return a recorded output or raise a recorded error; never run the step again."""
    if record.function_name != name:
        raise DBOSUnexpectedStepError(wf.workflow_id, function_id, name, record.function_name)
    if record.error is not None:
        raise wf.serializer.deserialize_error(record.error)
    return wf.serializer.deserialize(record.output) if record.output is not None else None


def encode(wf: WorkflowContext, function_id: int, name: str, started: int, value: Any = None,
           error: BaseException | None = None, child_workflow_id: str | None = None) -> tuple[StepRecord, BaseException | None]:  # fmt: skip
    """Serialize a step's outcome; a value that cannot be stored (or is too large) becomes the step's error."""
    if error is None:
        try:
            output = store_value(wf.serializer, value, f"The output of step {function_id} ({name}) of workflow "
                                                       f"{wf.workflow_id}")  # fmt: skip
        except DBOSSerializationError as exc:
            error = exc
    text = None
    if error is not None:
        text, error = store_error(wf.serializer, error, f"The error of step {function_id} ({name}) of workflow "
                                                        f"{wf.workflow_id}")  # fmt: skip
    record = StepRecord(function_id, name, None if error else output, text, child_workflow_id,
                        started, clock.now_ms())  # fmt: skip
    return record, error


def _should_stop(config: StepConfig, exc: Exception) -> bool:
    return config.should_retry is not None and not config.should_retry(exc)


def _call(config: StepConfig, step: StepContext, func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    errors: list[BaseException] = []
    for attempt in range(1, config.attempts + 1):
        if config.retries_allowed:
            step.current_attempt, step.max_attempts = attempt, config.max_attempts
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not config.retries_allowed or _should_stop(config, exc):
                raise
            errors.append(exc)
            if attempt < config.attempts:
                clock.get().sleep(config.delay(attempt))
    raise DBOSMaxStepRetriesExceeded(config.name, config.max_attempts, errors)


async def _call_async(config: StepConfig, step: StepContext, func: Callable[..., Awaitable[Any]],
                      args: Any, kwargs: Any) -> Any:  # fmt: skip
    errors: list[BaseException] = []
    for attempt in range(1, config.attempts + 1):
        if config.retries_allowed:
            step.current_attempt, step.max_attempts = attempt, config.max_attempts
        try:
            return await func(*args, **kwargs)
        except Exception as exc:
            stop = config.should_retry is not None and not await _maybe_await(config.should_retry(exc))
            if not config.retries_allowed or stop:
                raise
            errors.append(exc)
            if attempt < config.attempts:
                await clock.get().sleep_async(config.delay(attempt))
    raise DBOSMaxStepRetriesExceeded(config.name, config.max_attempts, errors)


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def run(config: StepConfig, func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """Run a sync step: checkpointed in a workflow, a plain call elsewhere (and inside another step)."""
    wf = in_workflow_body()
    if wf is None:
        return func(*args, **kwargs)
    function_id = wf.reserve()
    recorded = wf.recorded.get(function_id)
    if recorded is not None:
        return replay(wf, function_id, config.name, recorded)
    wf.check_cancelled()
    started = clock.now_ms()
    step = StepContext(function_id)
    value: Any = None
    error: BaseException | None = None
    with step_scope(step):
        try:
            value = _call(config, step, func, args, kwargs)
        except Exception as exc:
            error = exc
    record, error = encode(wf, function_id, config.name, started, value, error)
    step_store.record(wf.owner, record)
    if error is not None:
        raise error
    return value


async def run_async(config: StepConfig, func: Callable[..., Awaitable[Any]], args: Any, kwargs: Any) -> Any:
    """Run an async step; the id is reserved before the first await, so ``gather`` stays deterministic."""
    wf = in_workflow_body()
    if wf is None:
        return await func(*args, **kwargs)
    function_id = wf.reserve()
    recorded = wf.recorded.get(function_id)
    if recorded is not None:
        return replay(wf, function_id, config.name, recorded)
    wf.check_cancelled()
    started = clock.now_ms()
    step = StepContext(function_id)
    value: Any = None
    error: BaseException | None = None
    with step_scope(step):
        try:
            value = await _call_async(config, step, func, args, kwargs)
        except Exception as exc:
            error = exc
    record, error = encode(wf, function_id, config.name, started, value, error)
    await db(step_store.record, wf.owner, record)
    if error is not None:
        raise error
    return value


def run_internal_step(name: str, fn: Callable[[], Any], *, child_workflow_id: str | None = None) -> Any:
    """Run an engine call (``DBOS.getResult``, ``DBOS.getStatus``...) as a step when in a workflow body."""
    wf = in_workflow_body()
    if wf is None:
        if current_step() is not None and current_step().is_transaction:  # type: ignore[union-attr]
            raise DBOSException(f"Invalid call to `{name}` inside a transaction")
        return fn()
    function_id = wf.reserve()
    recorded = wf.recorded.get(function_id)
    if recorded is not None:
        return replay(wf, function_id, name, recorded)
    started = clock.now_ms()
    value: Any = None
    error: BaseException | None = None
    try:
        value = fn()
    except Exception as exc:
        error = exc
    record, error = encode(wf, function_id, name, started, value, error, child_workflow_id)
    step_store.record(wf.owner, record)
    if error is not None:
        raise error
    return value


async def run_internal_step_async(name: str, fn: Callable[[], Awaitable[Any]], *,
                                  child_workflow_id: str | None = None) -> Any:  # fmt: skip
    wf = in_workflow_body()
    if wf is None:
        return await fn()
    function_id = wf.reserve()
    recorded = wf.recorded.get(function_id)
    if recorded is not None:
        return replay(wf, function_id, name, recorded)
    started = clock.now_ms()
    value: Any = None
    error: BaseException | None = None
    try:
        value = await fn()
    except Exception as exc:
        error = exc
    record, error = encode(wf, function_id, name, started, value, error, child_workflow_id)
    await db(step_store.record, wf.owner, record)
    if error is not None:
        raise error
    return value
