"""Waiting for a workflow's recorded outcome and turning it into a value or an error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .. import conf
from ..error import DBOSAwaitedWorkflowCancelledError, DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded
from ..models import TERMINAL_STATUSES
from ..serialization import for_tag
from ..storage import workflows as wf_store
from ..storage.records import Outcome
from . import runtime as rt
from .aio import db

FIRST_POLL_SECONDS = 0.005


def decode(workflow_id: str, outcome: Outcome) -> Any:
    """The value of a finished workflow, or raise its error."""
    serializer = for_tag(outcome.serialization, conf.get().serializer)
    if outcome.status == "SUCCESS":
        return serializer.deserialize(outcome.output) if outcome.output is not None else None
    if outcome.status == "ERROR":
        raise serializer.deserialize_error(outcome.error or "")
    if outcome.status == "CANCELLED":
        raise DBOSAwaitedWorkflowCancelledError(workflow_id)
    raise DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded(workflow_id)


def _alias() -> str:
    runtime = rt.get()
    return runtime.alias if runtime else conf.get().database


def wait(workflow_id: str, polling_interval: float | None = None) -> Outcome:
    """Block until the workflow has a final status; local completions wake the wait at once."""
    interval = polling_interval or conf.get().polling_interval
    delay = FIRST_POLL_SECONDS
    while True:
        outcome = wf_store.read_outcome(_alias(), workflow_id)
        if outcome is not None and outcome.status in TERMINAL_STATUSES:
            return outcome
        runtime = rt.get()
        if runtime is not None:
            runtime.wait_done(delay)
        else:
            time.sleep(delay)
        delay = min(delay * 2, interval)


async def wait_async(workflow_id: str, polling_interval: float | None = None) -> Outcome:
    interval = polling_interval or conf.get().polling_interval
    delay = FIRST_POLL_SECONDS
    while True:
        outcome = await db(wf_store.read_outcome, _alias(), workflow_id)
        if outcome is not None and outcome.status in TERMINAL_STATUSES:
            return outcome
        await asyncio.sleep(delay)
        delay = min(delay * 2, interval)


def result(workflow_id: str, polling_interval: float | None = None) -> Any:
    return decode(workflow_id, wait(workflow_id, polling_interval))


async def result_async(workflow_id: str, polling_interval: float | None = None) -> Any:
    return decode(workflow_id, await wait_async(workflow_id, polling_interval))
