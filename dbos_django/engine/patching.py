"""Patching (as DBOS): change a workflow's code without stranding the executions already under way.

    if DBOS.patch("use-new-carrier"):
        ship_with_new_carrier()
    else:
        ship_with_old_carrier()

``patch`` looks at the next step number: a new execution (or one that has not got this far)
records a marker there and takes the new branch; an execution recorded by the old code finds
one of its old steps there and replays the old branch, without consuming a step number.
"""

from __future__ import annotations

from .. import conf
from ..error import DBOSException
from ..storage import steps as step_store
from ..storage.records import StepRecord
from . import clock
from .context import WorkflowContext, in_workflow_body


def _workflow(call: str) -> WorkflowContext:
    wf = in_workflow_body()
    if wf is None:
        raise DBOSException(f"{call}() must be called from within a workflow")
    if not conf.get().enable_patching:
        raise DBOSException(f"{call}() needs patching: set DBOS['ENABLE_PATCHING'] = True")
    return wf


def patch(name: str) -> bool:
    wf = _workflow("patch")
    marker = f"DBOS.patch-{name}"
    recorded = wf.recorded.get(wf.next_id + 1)
    if recorded is not None and recorded.function_name != marker:
        return False  # an execution of the old code: its next step is an old one
    function_id = wf.reserve()
    if recorded is None:
        now = clock.now_ms()
        step_store.record(wf.owner, StepRecord(function_id, marker, "null", None, None, now, now))
    return True


def deprecate_patch(name: str) -> bool:
    wf = _workflow("deprecate_patch")
    recorded = wf.recorded.get(wf.next_id + 1)
    if recorded is not None and recorded.function_name == f"DBOS.patch-{name}":
        wf.reserve()  # executions that took the patch keep their numbering
    return True
