"""Workflows that are methods: ``@DBOS.dbos_class``, ``DBOSConfiguredInstance``, and their receivers.

A row records the class's registered name (and, for an instance, its config name) instead of
``self``/``cls``; recovery finds the receiver again by those names.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ..error import DBOSException, DBOSWorkflowFunctionNotFoundError
from .registry import WorkflowInfo, registry

C = TypeVar("C", bound=type)
CLASS_NAME_ATTR = "__dbos_class_name__"


class DBOSConfiguredInstance:
    """Base class of objects whose methods are workflows: ``config_name`` names the instance for recovery."""

    def __init__(self, config_name: str) -> None:
        self.config_name = config_name
        registry.add_instance(f"{class_name(type(self))}/{config_name}", self)


def dbos_class(name: str | None = None) -> Callable[[C], C]:
    """Register a class holding workflows, steps or transactions under ``name`` (default: its qualname)."""

    def decorate(cls: C) -> C:
        registered = name or cls.__qualname__
        setattr(cls, CLASS_NAME_ATTR, registered)
        registry.add_class(registered, cls)
        return cls

    return decorate


def class_name(cls: type) -> str:
    return cls.__dict__.get(CLASS_NAME_ATTR) or cls.__qualname__


def _defines(cls: type, func: Callable[..., Any]) -> bool:
    """Is ``func`` (the undecorated workflow) a method of ``cls`` or of one of its bases?"""
    for klass in cls.__mro__:
        attr = klass.__dict__.get(func.__name__)
        if isinstance(attr, (classmethod, staticmethod)):
            attr = attr.__func__
        if attr is not None and inspect.unwrap(attr) is func:
            return True
    return False


def split_receiver(info: WorkflowInfo, args: tuple[Any, ...]) -> tuple[str | None, str | None, tuple[Any, ...]]:
    """``(class_name, config_name, args without self/cls)`` for a call of ``info``."""
    if not args or "." not in info.func.__qualname__:
        return None, None, args
    first = args[0]
    if isinstance(first, type) and _defines(first, info.func):
        if class_name(first) not in registry.classes:
            raise DBOSException(f"Class {first.__qualname__} holds workflow {info.name}: decorate it with @DBOS.dbos_class()")
        return class_name(first), None, args[1:]
    if _defines(type(first), info.func):
        if not isinstance(first, DBOSConfiguredInstance):
            raise DBOSException(
                f"Function target appears to be a class instance, but is not properly registered: workflow "
                f"{info.name} is a method of {type(first).__qualname__}, which must subclass DBOSConfiguredInstance"
            )
        return class_name(type(first)), first.config_name, args[1:]
    return None, None, args


def receiver(workflow_id: str, class_name: str | None, config_name: str | None) -> tuple[Any, ...]:
    """The ``self`` or ``cls`` to put back in front of a recovered workflow's arguments."""
    if class_name is None:
        return ()
    if config_name is not None:
        instance = registry.instances.get(f"{class_name}/{config_name}")
        if instance is None:
            raise DBOSWorkflowFunctionNotFoundError(
                workflow_id, f"no instance {class_name}/{config_name} is registered: create it (a DBOSConfiguredInstance "
                f"with config name {config_name!r}) before DBOS.launch(), then restart the workflow (or delete it)")
        return (instance,)
    cls = registry.classes.get(class_name)
    if cls is None:
        raise DBOSWorkflowFunctionNotFoundError(
            workflow_id, f"no class {class_name} is registered: it was removed or renamed, or is not decorated with "
            "@DBOS.dbos_class() in a module this process imports. Restore it, then restart the workflow (or delete it)")
    return (cls,)
