"""The body of a task's workflow: Django's task signals around the task function."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..engine import introspection
from ..engine.context import current_workflow
from .compat import TaskContext, TaskResult, TaskResultStatus, task_finished, task_started


def _current_result(task_path: str) -> TaskResult:
    from .results import task_of, to_result

    ctx = current_workflow()
    assert ctx is not None
    status = introspection.get_status(ctx.workflow_id)
    assert status is not None
    return to_result(status, task_of(task_path).backend, running=True)


def _finish(result: TaskResult, sender: type, value: Any = None, error: BaseException | None = None) -> None:
    from django.utils import timezone

    from .compat import TaskError

    object.__setattr__(result, "finished_at", timezone.now())
    if error is None:
        object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
        object.__setattr__(result, "_return_value", value)
    else:
        kind = type(error)
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        result.errors.append(TaskError(exception_class_path=f"{kind.__module__}.{kind.__qualname__}",
                                       traceback=repr(error)))  # fmt: skip
    task_finished.send(sender, task_result=result)


def runner(task_path: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """The workflow function of a task: sends ``task_started``/``task_finished``, passes the context."""
    from .backend import DBOSTaskBackend

    def call_args(result: TaskResult, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return (TaskContext(task_result=result), *args) if result.task.takes_context else args

    async def run_async(*args: Any, **kwargs: Any) -> Any:
        from ..engine.aio import db

        result = await db(_current_result, task_path)
        task_started.send(DBOSTaskBackend, task_result=result)
        try:
            value = await func(*call_args(result, args), **kwargs)
        except Exception as exc:
            _finish(result, DBOSTaskBackend, error=exc)
            raise
        _finish(result, DBOSTaskBackend, value)
        return value

    def run(*args: Any, **kwargs: Any) -> Any:
        result = _current_result(task_path)
        task_started.send(DBOSTaskBackend, task_result=result)
        try:
            value = func(*call_args(result, args), **kwargs)
        except Exception as exc:
            _finish(result, DBOSTaskBackend, error=exc)
            raise
        _finish(result, DBOSTaskBackend, value)
        return value

    from inspect import iscoroutinefunction

    chosen = run_async if iscoroutinefunction(func) else run
    functools.update_wrapper(chosen, func)  # the workflow's source hash is the task's source
    return chosen
