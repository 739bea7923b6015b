"""Durable workflows for Django: DBOS's programming model on the Django ORM.

    from dbos_django import DBOS

    @DBOS.step()
    def charge(order_id: int) -> str: ...

    @DBOS.workflow()
    def checkout(order_id: int) -> str:
        return charge(order_id)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "DBOS",
    "DBOSClient",
    "DBOSConfig",
    "DBOSConfiguredInstance",
    "Debouncer",
    "DebouncerClient",
    "EnqueueOptions",
    "Queue",
    "SendMessage",
    "Serializer",
    "SetEnqueueOptions",
    "SetWorkflowID",
    "SetWorkflowTimeout",
    "StepInfo",
    "StepOptions",
    "StepStatus",
    "WorkflowHandle",
    "WorkflowHandleAsync",
    "WorkflowStatus",
    "WorkflowStatusString",
    "error",
]

# Imported lazily: `dbos_django` is in INSTALLED_APPS, and models may not load before the app registry.
_LAZY = {
    "DBOS": ".facade",
    "DBOSClient": ".client",
    "DBOSConfig": ".config_types",
    "Debouncer": ".debouncer",
    "DebouncerClient": ".debouncer",
    "EnqueueOptions": ".client",
    "DBOSConfiguredInstance": ".engine.classes",
    "Queue": ".queue",
    "SendMessage": ".types",
    "Serializer": ".serialization",
    "SetEnqueueOptions": ".context_managers",
    "SetWorkflowID": ".context_managers",
    "SetWorkflowTimeout": ".context_managers",
    "StepInfo": ".types",
    "StepOptions": ".types",
    "StepStatus": ".types",
    "WorkflowHandle": ".engine.handles",
    "WorkflowHandleAsync": ".engine.handles",
    "WorkflowStatus": ".types",
    "WorkflowStatusString": ".models.workflows",
}


def __getattr__(name: str) -> Any:
    if name == "error":
        from . import error

        return error
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dbos_django' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from . import error
    from .client import DBOSClient, EnqueueOptions
    from .config_types import DBOSConfig
    from .context_managers import SetEnqueueOptions, SetWorkflowID, SetWorkflowTimeout
    from .debouncer import Debouncer, DebouncerClient
    from .engine.classes import DBOSConfiguredInstance
    from .engine.handles import WorkflowHandle, WorkflowHandleAsync
    from .facade import DBOS
    from .models.workflows import WorkflowStatusString
    from .queue import Queue
    from .serialization import Serializer
    from .types import SendMessage, StepInfo, StepOptions, StepStatus, WorkflowStatus
