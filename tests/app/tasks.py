"""Django tasks run by the DBOS task backend (tests/test_tasks.py)."""

from __future__ import annotations

from typing import Any

from dbos_django import DBOS

try:
    from django.tasks import TaskContext, task
except ImportError:  # Django 5.2: the backport (the `tasks` extra), if installed
    from django_tasks import TaskContext, task  # type: ignore[no-redef]


@task(queue_name="default")
def add(a: int, b: int) -> int:
    return a + b


@DBOS.step()
def double(x: int) -> int:
    return x * 2


@task(queue_name="default")
def uses_steps(x: int) -> int:
    return double(x) + double(x)


@task(queue_name="default")
def fails(message: str) -> None:
    raise ValueError(message)


@task(queue_name="default", takes_context=True)
def with_context(context: TaskContext, x: int) -> dict[str, Any]:
    return {"attempt": context.attempt, "id": context.task_result.id, "x": x}


@task(queue_name="default")
async def async_add(a: int, b: int) -> int:
    return a + b


@task(queue_name="default", max_recovery_attempts=3, timeout=60, deduplication_id="only-once")
def with_dbos_options() -> str:
    return "ok"


@task(queue_name="default", priority=50)
def noted(tag: str) -> str:
    from tests.app.models import SideEffect

    SideEffect.objects.create(key=tag)
    return tag
