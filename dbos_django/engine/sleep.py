"""Durable sleep: the wake-up time is checkpointed before sleeping, so recovery sleeps only the rest."""

from __future__ import annotations

import json

from ..storage import steps as step_store
from ..storage.records import StepRecord
from . import arguments, clock
from .aio import db
from .context import WorkflowContext, in_workflow_body
from .steps import replay

NAME = "DBOS.sleep"


def _wake_up_ms(wf: WorkflowContext, seconds: float) -> tuple[int, StepRecord | None]:
    """The checkpointed wake-up time, and the record to write if this is the first run."""
    function_id = wf.reserve()
    recorded = wf.recorded.get(function_id)
    if recorded is not None:
        return int(replay(wf, function_id, NAME, recorded)), None
    now = clock.now_ms()
    end = now + int(seconds * 1000)
    return end, StepRecord(function_id, NAME, json.dumps(end), None, None, now, end)


def _remaining(wf: WorkflowContext, end_ms: int) -> float:
    """Seconds until the wake-up time, or until the workflow's deadline if that comes first."""
    if wf.deadline_ms is not None:
        end_ms = min(end_ms, wf.deadline_ms)
    return max(0, end_ms - clock.now_ms()) / 1000


def sleep(seconds: float) -> None:
    """Sleep durably inside a workflow body; elsewhere (and in steps) it is a plain sleep.

    ``seconds <= 0`` returns at once (as DBOS); a value that is not a finite number raises ``DBOSInvalidArgumentError``.
    """
    arguments.seconds(seconds, "sleep duration")
    wf = in_workflow_body()
    if wf is None:
        clock.get().sleep(seconds)
        return
    if seconds <= 0:
        return
    end, record = _wake_up_ms(wf, seconds)
    if record is not None:
        step_store.record(wf.owner, record)
    clock.get().sleep(_remaining(wf, end), wf.interrupt)
    wf.check_cancelled()  # cut short by a cancellation or the workflow's deadline


async def sleep_async(seconds: float) -> None:
    arguments.seconds(seconds, "sleep duration")
    wf = in_workflow_body()
    if wf is None:
        await clock.get().sleep_async(seconds)
        return
    if seconds <= 0:
        return
    end, record = _wake_up_ms(wf, seconds)
    if record is not None:
        await db(step_store.record, wf.owner, record)
    await clock.get().sleep_async(_remaining(wf, end))
    wf.check_cancelled()
