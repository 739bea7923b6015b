"""``DBOSTaskBackend``: Django's task API, each task a durable workflow on a DBOS queue.

    TASKS = {"default": {"BACKEND": "dbos_django.tasks.DBOSTaskBackend", "QUEUES": ["default", "emails"],
                         "OPTIONS": {"QUEUE_OPTIONS": {"emails": {"worker_concurrency": 2}}}}}

A task's workflow is named by the task's module path; ``dbos_worker`` runs it (every process
imports each installed app's ``tasks`` module, so the task is registered wherever it may run).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from inspect import iscoroutinefunction
from typing import Any

from django.utils import timezone

from ..context_managers import SetWorkflowTimeout
from ..decorators import WORKFLOW_ATTR
from ..engine import clock, introspection
from ..engine.aio import db
from ..engine.context import EnqueueOptions, options, options_scope
from ..engine.enqueue import Target, enqueue_id
from ..engine.registry import WorkflowInfo, registry
from ..queue import Queue
from .compat import BaseTaskBackend, Task, TaskResult, TaskResultDoesNotExist, TaskResultStatus, task_enqueued
from .results import to_result
from .runner import runner

QUEUE_PREFIX = "tasks:"
DEFAULT_RECOVERY_ATTEMPTS = 100


def dbos_priority(priority: int) -> int:
    """Django's -100..100 (higher first) onto DBOS's 1..201 (lower first)."""
    return 101 - priority


def queue_name(task_queue: str) -> str:
    return QUEUE_PREFIX + task_queue


class DBOSTaskBackend(BaseTaskBackend):
    """Run Django tasks as durable DBOS workflows, executed by ``manage.py dbos_worker``."""

    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    @property
    def task_class(self) -> type[Task]:  # type: ignore[override]
        """The class ``@task`` builds: ``DBOSTask``, which also takes ``max_recovery_attempts``, ``timeout`` (seconds)
        and ``deduplication_id``.
        """
        from .task import DBOSTask

        return DBOSTask

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        queue_options = self.options.get("QUEUE_OPTIONS", {})
        for name in self.queues or ["default"]:
            if queue_name(name) not in registry.queues:
                Queue(queue_name(name), **queue_options.get(name, {}))

    def validate_task(self, task: Task) -> None:
        """Check the task as Django does, then register its workflow (named by the task's module path).

        Raise Django's ``InvalidTask`` for a task this backend cannot run.
        """
        super().validate_task(task)
        register(task)

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        """Write the task's workflow row (in the caller's transaction, if one is open); return its result."""
        self.validate_task(task)
        workflow_id = enqueue_task(task, tuple(args), dict(kwargs))
        now = timezone.now()
        result = TaskResult(task=task, id=workflow_id, status=TaskResultStatus.READY, enqueued_at=now,
                            started_at=None, finished_at=None, last_attempted_at=None, args=list(args),
                            kwargs=dict(kwargs), backend=self.alias, errors=[], worker_ids=[])  # fmt: skip
        task_enqueued.send(type(self), task_result=result)
        return result

    async def aenqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        """Async twin of :meth:`enqueue`."""
        return await db(self.enqueue, task, args, kwargs)

    def get_result(self, result_id: str) -> TaskResult:
        """Return the ``TaskResult`` of the task's workflow, read from its row.

        Raise Django's ``TaskResultDoesNotExist`` if there is no workflow with that id.
        """
        status = introspection.get_status(result_id)
        if status is None:
            raise TaskResultDoesNotExist(result_id)
        return to_result(status, self.alias)

    async def aget_result(self, result_id: str) -> TaskResult:
        """Async twin of :meth:`get_result`."""
        return await db(self.get_result, result_id)


def register(task: Task) -> None:
    """Make the task a workflow named by its module path (idempotent)."""
    name = task.module_path
    known = registry.workflow(name)
    if known is not None and getattr(known.func, "__wrapped__", None) is task.func:
        return
    limit = getattr(task, "max_recovery_attempts", None) or DEFAULT_RECOVERY_ATTEMPTS
    body = runner(name, task.func)
    info = WorkflowInfo(name=name, func=body, max_recovery_attempts=limit, is_async=iscoroutinefunction(task.func))
    setattr(body, WORKFLOW_ATTR, info)
    registry.add_workflow(info)


def workflow_of(task: Task) -> Callable[..., Any]:
    """The workflow that runs ``task`` (to start it directly, or to ``simulate_crash`` it in a test)."""
    register(task)
    info = registry.workflow(task.module_path)
    assert info is not None
    return info.func


def enqueue_task(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    delay = _delay(task.run_after)
    engine_options = EnqueueOptions(priority=dbos_priority(task.priority), delay_seconds=delay,
                                    deduplication_id=getattr(task, "deduplication_id", None))  # fmt: skip
    with ExitStack() as scope:
        timeout = getattr(task, "timeout", None)
        if timeout:
            scope.enter_context(SetWorkflowTimeout(timeout))
        scope.enter_context(options_scope(dataclasses.replace(options(), enqueue=engine_options)))  # type: ignore[arg-type]
        return enqueue_id(queue_name(task.queue_name), Target(task.module_path, args), kwargs, None)


def _delay(run_after: datetime | None) -> float | None:
    if run_after is None:
        return None
    seconds = (run_after.timestamp() * 1000 - clock.now_ms()) / 1000
    return seconds if seconds > 0 else None
