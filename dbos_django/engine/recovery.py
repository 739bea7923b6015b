"""Recovery at launch: resume this executor's PENDING workflows from their last checkpoint."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Any

from ..error import DBOSWorkflowFunctionNotFoundError, MaxRecoveryAttemptsExceededError
from ..serialization import for_tag
from ..storage import steps as step_store
from ..storage import workflows as wf_store
from . import clock
from .context import WorkflowContext
from .registry import registry
from .runtime import Runtime

logger = logging.getLogger("dbos_django")


def recover_one(runtime: Runtime, workflow_id: str) -> Future[Any] | None:
    """Take a PENDING workflow and run it again from the top, replaying its checkpoints."""
    if runtime.running(workflow_id) is not None:
        return None
    claimed = wf_store.claim_for_recovery(runtime.alias, workflow_id, runtime.executor_id, clock.now_ms())
    if claimed is None:
        return None
    info = registry.workflow(claimed.name)
    if info is None:
        logger.error("%s", DBOSWorkflowFunctionNotFoundError(workflow_id, f"no workflow named {claimed.name}"))
        return None
    limit = info.max_recovery_attempts
    if limit is not None and claimed.recovery_attempts > limit + 1:
        wf_store.dead_letter(runtime.alias, workflow_id, clock.now_ms())
        runtime.notify_done()
        logger.error("%s", MaxRecoveryAttemptsExceededError(workflow_id, limit))
        return None
    serializer = for_tag(claimed.serialization, runtime.settings.serializer)
    inputs = serializer.deserialize(claimed.inputs) if claimed.inputs else {"args": [], "kwargs": {}}
    wf = WorkflowContext(
        workflow_id=workflow_id, name=info.name, runtime=runtime, alias=runtime.alias, serializer=serializer,
        recorded=step_store.load(runtime.alias, workflow_id), deadline_ms=claimed.workflow_deadline_epoch_ms,
    )  # fmt: skip
    logger.info("Recovering workflow %s (%s), attempt %d", workflow_id, info.name, claimed.recovery_attempts)
    from .workflows import _launch

    return _launch(runtime, wf, info, tuple(inputs["args"]), inputs["kwargs"])


def recover_pending(runtime: Runtime) -> int:
    """Resume every PENDING workflow of this executor and application version; return how many."""
    ids = wf_store.pending_ids(runtime.alias, runtime.executor_id, runtime.application_version)
    started = 0
    for workflow_id in ids:
        if runtime.stopped:
            break
        try:
            started += recover_one(runtime, workflow_id) is not None
        except Exception:
            logger.exception("Could not recover workflow %s; it stays PENDING", workflow_id)
    if ids:
        logger.info("Recovery: %d of %d pending workflows resumed", started, len(ids))
    return started


def start(runtime: Runtime) -> None:
    """Run recovery in the background so ``launch()`` returns at once."""
    runtime.submit(recover_pending, runtime)
