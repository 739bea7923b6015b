"""A Django task that no process imports at start (this is not a ``tasks`` module).

A worker that dequeues it imports it by its module path, which registers its workflow
(tests/test_missing_code.py). Nothing else may import this module.
"""

from __future__ import annotations

try:
    from django.tasks import task
except ImportError:  # Django 5.2: the backport (the `tasks` extra)
    from django_tasks import task  # type: ignore[no-redef]


@task(queue_name="default")
def lazy_add(a: int, b: int) -> int:
    return a + b
