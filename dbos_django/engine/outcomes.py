"""Waiting for a workflow's recorded outcome and turning it into a value or an error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .. import conf
from ..error import DBOSAwaitedWorkflowCancelledError, DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded, DBOSException
from ..models import TERMINAL_STATUSES
from ..serialization import for_tag
from ..storage import workflows as wf_store
from ..storage.records import Outcome
from . import arguments
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


def settle_locally(workflow_id: str) -> Outcome | None:
    """Testing mode: run what it takes for the workflow to finish here, in this thread.

    Return its final outcome, or None outside testing mode. Raise ``DBOSException`` if it cannot
    finish (it waits for time to pass, for a message, or on a queue's limits).
    """
    runtime = rt.get()
    if runtime is None or not runtime.testing:
        return None
    from .inline import drain

    drain(runtime, until=workflow_id)
    outcome = wf_store.read_outcome(runtime.alias, workflow_id)
    if outcome is not None and outcome.status in TERMINAL_STATUSES:
        return outcome
    state = outcome.status if outcome else "not found"
    raise DBOSException(
        f"Workflow {workflow_id} cannot finish in this test: it is {state} and nothing left to run moves it "
        "(advance the test clock past its delay or sleep, or send what it waits for)"
    )


def wait(workflow_id: str, polling_interval: float | None = None) -> Outcome:
    """Block until the workflow has a final status; local completions wake the wait at once."""
    settled = settle_locally(workflow_id)
    if settled is not None:
        return settled
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


def _check(workflow_id: str, polling_interval: float | None) -> None:
    arguments.workflow_id(workflow_id)
    if polling_interval is not None:
        arguments.positive_seconds(polling_interval, "polling_interval_sec")


def result(workflow_id: str, polling_interval: float | None = None) -> Any:
    """Wait for the workflow's outcome (an id nobody started yet is waited for, as DBOS); return it or raise it."""
    _check(workflow_id, polling_interval)
    return decode(workflow_id, wait(workflow_id, polling_interval))


async def result_async(workflow_id: str, polling_interval: float | None = None) -> Any:
    _check(workflow_id, polling_interval)
    return decode(workflow_id, await wait_async(workflow_id, polling_interval))
