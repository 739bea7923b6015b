"""Which functions are workflows, steps and transactions, under which names (like ``django.apps``)."""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..error import DBOSConflictingRegistrationError, DBOSInvalidArgumentError

#: The name prefix of the one-step workflow a step or transaction called outside a workflow runs as (as DBOS).
TEMP_PREFIX = "<temp>."


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowInfo:
    """A registered workflow function."""

    name: str
    func: Callable[..., Any]
    is_async: bool
    max_recovery_attempts: int | None = 100


@dataclass(slots=True)
class Registry:
    """Every decorated function of the process. Decorators fill it before or after launch."""

    workflows: dict[str, WorkflowInfo] = field(default_factory=dict)
    operations: dict[str, str] = field(default_factory=dict)  # name -> "step" | "transaction"
    queues: dict[str, Any] = field(default_factory=dict)  # name -> dbos_django.Queue
    schedules: dict[str, str] = field(default_factory=dict)  # workflow name -> cron (@DBOS.scheduled)
    classes: dict[str, type] = field(default_factory=dict)
    instances: dict[str, Any] = field(default_factory=dict)  # "Class/config" -> instance
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_workflow(self, info: WorkflowInfo) -> None:
        with self.lock:
            if info.name in self.operations:
                raise DBOSConflictingRegistrationError(info.name)
            known = self.workflows.get(info.name)
            # (A bare step or transaction call's one-step temporary workflow may share its step's common name.)
            if known is not None and not info.name.startswith(TEMP_PREFIX) and _origin(known.func) != _origin(info.func):
                # Recovery finds a workflow by its name: two functions under one name would run the wrong one.
                raise DBOSConflictingRegistrationError(info.name, (
                    f"Two workflows are named {info.name!r}: {_origin(known.func)} and {_origin(info.func)}. "
                    f"Give one another name: @DBOS.workflow(name=...)"))  # fmt: skip
            # Re-decorating the same function (a reloaded module) replaces the entry.
            self.workflows[info.name] = info

    def add_operation(self, name: str, kind: str) -> None:
        with self.lock:
            if name in self.workflows:
                raise DBOSConflictingRegistrationError(name)
            self.operations[name] = kind

    def add_queue(self, queue: Any) -> None:
        with self.lock:
            if queue.name in self.queues:
                raise DBOSInvalidArgumentError(f"Queue {queue.name} has already been declared")
            self.queues[queue.name] = queue

    def add_class(self, name: str, cls: type) -> None:
        with self.lock:
            known = self.classes.get(name)
            if known is not None and known.__module__ + known.__qualname__ != cls.__module__ + cls.__qualname__:
                from ..error import DBOSConflictingRegistrationError

                raise DBOSConflictingRegistrationError(name)
            self.classes[name] = cls

    def add_instance(self, key: str, instance: Any) -> None:
        with self.lock:
            self.instances[key] = instance

    def workflow(self, name: str) -> WorkflowInfo | None:
        return self.workflows.get(name)

    def source_hash(self, application_name: str) -> str:
        """DBOS's default application version: a hash of the workflows' source code.

        The ``workflows`` module of every installed app is imported first, so every process of the
        project (a web process, a worker) registers the same workflows and computes the same hash.
        """
        discover()
        digest = hashlib.md5(usedforsecurity=False)
        for name in sorted(self.workflows):
            func = inspect.unwrap(self.workflows[name].func)
            try:
                digest.update(inspect.getsource(func).encode())
            except (OSError, TypeError):
                digest.update(name.encode())
        digest.update(application_name.encode())
        return digest.hexdigest()

    def clear(self) -> None:
        with self.lock:
            self.workflows.clear()
            self.operations.clear()
            self.queues = {k: v for k, v in self.queues.items() if k.startswith("_dbos")}
            self.classes.clear()
            self.instances.clear()
            self.schedules.clear()


registry = Registry()


def discover() -> None:
    """Import every installed app's ``workflows`` and ``tasks`` modules, and set up DBOS task backends.

    Every process of a project (a web process, a worker) then registers the same workflows,
    computes the same application version, and serves the same queues.
    """
    from django.conf import settings
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("workflows")
    if _task_api():
        autodiscover_modules("tasks")
    for alias, config in getattr(settings, "TASKS", {}).items():
        if config.get("BACKEND") == "dbos_django.tasks.DBOSTaskBackend":
            from ..tasks.compat import task_backends

            task_backends[alias]  # declares its queues


def _task_api() -> bool:
    """Is Django's task framework there (Django 6, or the backport)? Only then are ``tasks`` modules ours to load."""
    try:
        from ..tasks import compat  # noqa: F401
    except ImportError:
        return False
    return True


def _origin(func: Callable[..., Any]) -> str:
    """Where a function was defined: its module and qualified name (through decorators)."""
    func = inspect.unwrap(func)
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"
