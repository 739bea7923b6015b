"""Handles on started workflows: wait for a result, read the status."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from ..error import DBOSAwaitedWorkflowCancelledError, DBOSNonExistentWorkflowError
from ..types import WorkflowStatus
from . import introspection, outcomes
from .aio import check_async
from .steps import run_internal_step, run_internal_step_async

R = TypeVar("R")


class WorkflowHandle(Generic[R]):
    """A started workflow, polled in the database (or awaited in-process when it runs here)."""

    def __init__(self, workflow_id: str, future: Future[Any] | None = None) -> None:
        self.workflow_id = workflow_id
        self._future = future

    def get_workflow_id(self) -> str:
        """Return the workflow's id."""
        return self.workflow_id

    def _result(self, polling_interval_sec: float | None) -> R:
        if self._future is not None:
            from .workflows import Parked

            if outcomes.settle_locally(self.workflow_id) is not None:
                return outcomes.result(self.workflow_id)
            try:
                # A local execution resolves with the recorded outcome, even when it had to park.
                return self._future.result()
            except (Parked, DBOSAwaitedWorkflowCancelledError):
                pass  # it stopped (taken over, or cancelled and perhaps resumed since): read the database
        return outcomes.result(self.workflow_id, polling_interval_sec)

    def get_result(self, *, polling_interval_sec: float | None = None) -> R:
        """Wait for the workflow to finish; return its value or raise its error.

        Raise ``DBOSAwaitedWorkflowCancelledError`` if it was cancelled and
        ``DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded`` if it ran out of recovery attempts. In a workflow the
        result is checkpointed (one step number).
        """
        check_async("get_result")
        return run_internal_step("DBOS.getResult", lambda: self._result(polling_interval_sec),
                                 child_workflow_id=self.workflow_id)  # fmt: skip

    def get_status(self) -> WorkflowStatus:
        """The workflow's current status row; raise ``DBOSNonExistentWorkflowError`` if it is gone."""
        check_async("get_status")
        status = run_internal_step("DBOS.getStatus", lambda: introspection.get_status(self.workflow_id))
        if status is None:
            raise DBOSNonExistentWorkflowError(self.workflow_id)
        return status


class WorkflowHandleAsync(Generic[R]):
    """The async twin of ``WorkflowHandle``."""

    def __init__(self, workflow_id: str, task: asyncio.Future[Any] | None = None) -> None:
        self.workflow_id = workflow_id
        self._task = task

    def get_workflow_id(self) -> str:
        """Return the workflow's id."""
        return self.workflow_id

    async def _result(self, polling_interval_sec: float | None) -> R:
        if self._task is not None:
            from .workflows import Parked

            try:
                return await asyncio.shield(self._task)
            except (Parked, DBOSAwaitedWorkflowCancelledError):
                pass
        return await outcomes.result_async(self.workflow_id, polling_interval_sec)

    async def get_result(self, *, polling_interval_sec: float | None = None) -> R:
        """Async twin of :meth:`WorkflowHandle.get_result`."""
        return await run_internal_step_async("DBOS.getResult", lambda: self._result(polling_interval_sec),
                                             child_workflow_id=self.workflow_id)  # fmt: skip

    async def get_status(self) -> WorkflowStatus:
        """Async twin of :meth:`WorkflowHandle.get_status`."""
        status = await run_internal_step_async("DBOS.getStatus",
                                               lambda: introspection.get_status_async(self.workflow_id))  # fmt: skip
        if status is None:
            raise DBOSNonExistentWorkflowError(self.workflow_id)
        return status
