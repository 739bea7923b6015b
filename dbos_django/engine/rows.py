"""Workflows and steps as stored, for people (the operations commands): values stay text, never unpickled."""

from __future__ import annotations

from .. import conf
from ..error import DBOSNonExistentWorkflowError
from ..models import Workflow
from ..storage import listing
from ..storage import steps as step_store
from ..storage import workflows as wf_store
from ..storage.listing import Filters
from ..storage.records import StepRecord
from . import runtime as rt


def _alias() -> str:
    runtime = rt.get()
    return runtime.alias if runtime else conf.get().database


def workflow(workflow_id: str) -> Workflow:
    """The row of a workflow; raise ``DBOSNonExistentWorkflowError`` if there is none."""
    row = wf_store.get(_alias(), workflow_id)
    if row is None:
        raise DBOSNonExistentWorkflowError(workflow_id)
    return row


def workflows(filters: Filters) -> list[Workflow]:
    """The rows matching DBOS's ``list_workflows`` filters, with their stored inputs, outputs and errors."""
    return listing.list_rows(_alias(), filters, load_input=True, load_output=True)


def steps(workflow_id: str) -> list[StepRecord]:
    """The checkpoints of a workflow in order; raise ``DBOSNonExistentWorkflowError`` if there is none."""
    workflow(workflow_id)
    return step_store.list_steps(_alias(), workflow_id)
