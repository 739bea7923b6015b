"""A durable backend for Django's task framework (``django.tasks``, or the ``django-tasks`` backport)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["DBOSTask", "DBOSTaskBackend", "workflow_of"]


def __getattr__(name: str) -> Any:
    if name == "DBOSTaskBackend":
        from .backend import DBOSTaskBackend

        return DBOSTaskBackend
    if name == "workflow_of":
        from .backend import workflow_of

        return workflow_of
    if name == "DBOSTask":
        from .task import DBOSTask

        return DBOSTask
    raise AttributeError(f"module 'dbos_django.tasks' has no attribute {name!r}")


if TYPE_CHECKING:
    from .backend import DBOSTaskBackend, workflow_of
    from .task import DBOSTask
