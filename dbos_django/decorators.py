"""The wrappers ``@DBOS.workflow``, ``@DBOS.step`` and ``@DBOS.transaction`` put around functions."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from . import conf
from .engine import arguments, steps, transactions, workflows
from .engine.aio import loop_running, run_blocking_off_loop
from .engine.context import current_step, in_workflow_body
from .engine.registry import TEMP_PREFIX, WorkflowInfo, registry
from .error import DBOSException

P = ParamSpec("P")
R = TypeVar("R")
WORKFLOW_ATTR = "__dbos_workflow__"


def workflow_call(func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[WorkflowInfo, tuple[Any, ...]]:
    """The registration of a decorated workflow and its full arguments (a bound method's receiver first).

    Raise ``DBOSException`` if ``func`` is not a workflow.
    """
    info = getattr(func, WORKFLOW_ATTR, None)
    if info is None:
        name = getattr(func, "__qualname__", repr(func))
        raise DBOSException(f"{name} is not a workflow: decorate it with @DBOS.workflow()")
    if inspect.ismethod(func):
        return info, (func.__self__, *args)
    return info, args


def workflow(*, name: str | None = None, max_recovery_attempts: int | None = 100) -> Callable[[Callable[P, R]], Callable[P, R]]:  # fmt: skip
    """Make a function a durable workflow: each call is recorded, and an interrupted one resumes from its last step.

    ``name`` registers it under another name than its ``__qualname__`` (the name its rows store, which recovery
    and ``DBOSClient.enqueue`` look up). ``max_recovery_attempts`` (an integer >= 0, or ``None`` for no limit) is
    how many times recovery may start it again before it ends ``MAX_RECOVERY_ATTEMPTS_EXCEEDED``.

    It decorates ``def`` and ``async def`` functions, static and class methods of a class decorated with
    :meth:`DBOS.dbos_class`, and methods of a :class:`DBOSConfiguredInstance`. A call runs the workflow in the
    caller's thread (or coroutine) and returns its value or raises its error. Called from another workflow it is
    a child workflow with the id ``{parent id}-{step}``, taking two step numbers (its start and its result);
    called inside a step it is a plain call. In a :class:`SetWorkflowID` block, an id that already finished
    returns its recorded result (or raises its recorded error) without running again.

    Raise ``DBOSInvalidArgumentError`` for an invalid ``max_recovery_attempts`` and
    ``DBOSConflictingRegistrationError`` if the name is already a step's or a transaction's. A call raises
    ``DBOSConflictingWorkflowError`` if its id belongs to another function, and ``DBOSException`` inside an open
    ``transaction.atomic()`` on SQLite (use :meth:`DBOS.start_workflow` there).
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        if max_recovery_attempts is not None:
            arguments.integer(max_recovery_attempts, "max_recovery_attempts", minimum=0)
        info = WorkflowInfo(name=name or func.__qualname__, func=func,
                            is_async=inspect.iscoroutinefunction(func),
                            max_recovery_attempts=max_recovery_attempts)  # fmt: skip
        registry.add_workflow(info)
        if info.is_async:

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await workflows.call_async(info, args, kwargs)

            wrapper: Any = async_wrapper
        else:

            @functools.wraps(func)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return workflows.call(info, args, kwargs)

        setattr(wrapper, WORKFLOW_ATTR, info)
        return wrapper

    return decorate


def step(*, name: str | None = None, retries_allowed: bool = False, interval_seconds: float = 1.0,
         max_attempts: int = 3, backoff_rate: float = 2.0,
         should_retry: Callable[[BaseException], Any] | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:  # fmt: skip
    """Make a function a step: in a workflow its output (or its error) is checkpointed, so it runs once.

    Each call in a workflow takes the next step number; when the workflow is recovered, a checkpointed step
    returns its recorded output, or raises its recorded error, without running. Outside a workflow, and inside
    another step, a step is a plain call. ``name`` replaces the ``__qualname__`` recorded in the checkpoint.

    With ``retries_allowed``, an exception is retried until ``max_attempts`` attempts in all, waiting
    ``interval_seconds`` first and ``backoff_rate`` times longer each time (at most an hour; the waits are not
    checkpointed); ``should_retry(exc)`` returning false raises ``exc`` at once. ``DBOS.step_status`` tells a
    step its attempt. It decorates ``def`` and ``async def`` functions (an async ``should_retry`` needs an async
    step); a sync step called in an async workflow runs in a thread.

    Raise ``DBOSInvalidArgumentError`` for invalid retry settings, ``DBOSException`` for an async
    ``should_retry`` on a sync step, and ``DBOSConflictingRegistrationError`` if the name is already a
    workflow's. A call whose attempts all fail raises ``DBOSMaxStepRetriesExceeded`` (its ``errors`` holds each
    attempt's error), and that error is what the checkpoint records.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        config = steps.StepConfig(name=name or func.__qualname__, retries_allowed=retries_allowed,
                                  interval_seconds=interval_seconds, max_attempts=max_attempts,
                                  backoff_rate=backoff_rate, should_retry=should_retry)  # fmt: skip
        if should_retry is not None and inspect.iscoroutinefunction(should_retry) and not inspect.iscoroutinefunction(func):
            raise DBOSException(f"Step {config.name}: an async should_retry needs an async step")
        registry.add_operation(config.name, "step")
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await steps.run_async(config, func, args, kwargs)  # type: ignore[arg-type]

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            if in_workflow_body() is not None and loop_running():
                # A sync step in an async workflow: Django's ORM refuses the event loop's thread.
                return run_blocking_off_loop(lambda: steps.run(config, func, args, kwargs))
            return steps.run(config, func, args, kwargs)

        return wrapper

    return decorate


def transaction(isolation_level: str = "SERIALIZABLE", *, name: str | None = None,
                using: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:  # fmt: skip
    """Make a function a transaction: its database writes and its checkpoint commit together, exactly once.

    The body runs in ``transaction.atomic(using=using)`` (default: the ``DATABASE`` of the ``DBOS`` setting) at
    ``isolation_level``: ``"SERIALIZABLE"`` (the default), ``"REPEATABLE READ"`` or ``"READ COMMITTED"``, set on
    PostgreSQL. Serialization failures, deadlocks and SQLite's "database is locked" are retried with backoff.
    In a workflow a call takes one step number, and a recovered workflow returns the recorded output without
    running the body again. Called outside a workflow it runs as a one-step workflow named ``<temp>.{name}``;
    inside a step it is a plain ``atomic()`` block. ``name`` replaces the function's ``__qualname__``.

    Raise ``DBOSException`` for an ``async def`` function (the ORM is synchronous; call the transaction from an
    async workflow as it is) or an unknown isolation level, and ``DBOSConflictingRegistrationError`` if the name
    is already a workflow's. A call raises ``DBOSException`` inside an open ``transaction.atomic()`` on its
    database: its exactly-once guarantee needs its own commit.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        config = transactions.TransactionConfig(name=name or func.__qualname__, isolation_level=isolation_level,
                                                using=using)  # fmt: skip
        if inspect.iscoroutinefunction(func):
            raise DBOSException(f"Transaction {config.name} is async: @DBOS.transaction takes sync functions only "
                                "(the Django ORM is synchronous); call it from an async workflow as it is")  # fmt: skip
        registry.add_operation(config.name, "transaction")

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            if in_workflow_body() is not None and loop_running():
                return run_blocking_off_loop(lambda: wrapper(*args, **kwargs))
            alias = config.using or conf.get().database
            if current_step() is None:
                transactions.check_not_in_atomic(config.name, alias)
                if in_workflow_body() is None:
                    return workflows.call(temp, args, kwargs)  # DBOS runs a bare transaction as a workflow
            return transactions.run(config, func, args, kwargs, alias)

        temp = WorkflowInfo(name=f"{TEMP_PREFIX}{config.name}", func=wrapper, is_async=False)
        registry.add_workflow(temp)
        return wrapper

    return decorate
