"""Claimed workflows that cannot run here: their code was removed or renamed, or their inputs cannot be read.

Such a workflow ends in ERROR with an error that names what is missing and what to do, instead of
staying PENDING (a recovery or a restart would claim it again, forever). "Missing" is decided only
once registration is complete: every app's ``ready()`` has run (``DBOS.launch()`` has already imported
each app's ``workflows`` module), and a Django task is imported by its module path, since a task
registers its workflow only when its module is imported.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..error import DBOSSerializationError, DBOSWorkflowFunctionNotFoundError
from ..serialization import Serializer, for_tag, store_error
from ..storage import workflows as wf_store
from ..storage.records import ClaimedWorkflow, Owner
from . import clock
from .registry import WorkflowInfo, registry

if TYPE_CHECKING:
    from .runtime import Runtime

logger = logging.getLogger("dbos_django")
APPS_READY_TIMEOUT_SECONDS = 60.0
TASK_QUEUE_PREFIX = "tasks:"  # dbos_django.tasks.backend.QUEUE_PREFIX (not imported: it needs the task API)


def workflow_for(row: ClaimedWorkflow) -> WorkflowInfo | None:
    """The registered workflow a claimed row names, looked up once every registration has had its chance."""
    info = registry.workflow(row.name)
    if info is not None:
        return info
    from django.apps import apps

    if not apps.ready:  # DBOS.launch() called from an AppConfig.ready(): later apps register theirs now
        apps.ready_event.wait(APPS_READY_TIMEOUT_SECONDS)
    if registry.workflow(row.name) is None and (row.queue_name or "").startswith(TASK_QUEUE_PREFIX):
        _import_task(row.name)
    return registry.workflow(row.name)


def _import_task(module_path: str) -> None:
    """Import a Django task by its module path (only inside an installed app): its backend registers it."""
    from django.apps import apps

    if apps.get_containing_app_config(module_path) is None:
        return
    try:
        from ..tasks.backend import register
        from ..tasks.results import task_of

        register(task_of(module_path))
    except Exception as exc:  # not importable, not a task, or no task framework: the code is missing
        logger.debug("Workflow %s is not an importable Django task (%s)", module_path, exc)


def missing_function(runtime: Runtime, row: ClaimedWorkflow) -> DBOSWorkflowFunctionNotFoundError:
    return DBOSWorkflowFunctionNotFoundError(
        row.workflow_id,
        f"no workflow named {row.name!r} is registered in this process (application version "
        f"{runtime.application_version}). Its code was removed or renamed, or the module defining it is never "
        "imported here (define it in the workflows module of an installed app). Deploy code that defines it under "
        "this name, then restart or fork the workflow (or delete it).",
    )


def serializer_for(runtime: Runtime, row: ClaimedWorkflow) -> Serializer:
    """The serializer of a claimed row; raise ``DBOSSerializationError`` naming its tag if none can read it."""
    try:
        return for_tag(row.serialization, runtime.settings.serializer)
    except TypeError as exc:
        raise DBOSSerializationError(
            f"Cannot read workflow {row.workflow_id}: it was stored with serializer {row.serialization!r}, and this "
            "process is configured with another one (DBOS['SERIALIZER'])"
        ) from exc


def inputs_of(serializer: Serializer, row: ClaimedWorkflow) -> dict[str, Any]:
    """The stored arguments of a claimed row; raise ``DBOSSerializationError`` saying why they cannot be read."""
    if not row.inputs:
        return {"args": [], "kwargs": {}}
    try:
        inputs = serializer.deserialize(row.inputs)
    except Exception as exc:
        raise DBOSSerializationError(
            f"Cannot read the stored inputs of workflow {row.workflow_id} ({type(exc).__name__}: {exc}): a class "
            "they use may have been removed or renamed since they were stored (restore it, then restart the "
            "workflow), or they were pickled and this process reads JSON only (SERIALIZER = 'json')."
        ) from exc
    well_formed = isinstance(inputs, dict) and isinstance(inputs.get("args"), list | tuple)
    if not well_formed or not isinstance(inputs.get("kwargs", {}), dict):
        raise DBOSSerializationError(f"The stored inputs of workflow {row.workflow_id} are not "
                                     "{'args': [...], 'kwargs': {...}}")  # fmt: skip
    return {"args": list(inputs["args"]), "kwargs": inputs.get("kwargs", {})}


def fail(runtime: Runtime, row: ClaimedWorkflow, error: Exception) -> None:
    """End a claimed workflow that cannot run here in ERROR with ``error`` (unless it is no longer ours)."""
    try:
        serializer = serializer_for(runtime, row)  # the row's own format, so its readers can read the error
    except DBOSSerializationError:
        serializer = runtime.settings.serializer
    text, _ = store_error(serializer, error, f"The error of workflow {row.workflow_id}")
    owner = Owner(runtime.alias, row.workflow_id, row.owner_epoch)
    if wf_store.record_outcome(owner, "ERROR", None, text, clock.now_ms()):
        runtime.notify_done()
        logger.error("Workflow %s (%s) cannot run and ended in ERROR: %s", row.workflow_id, row.name, error)
