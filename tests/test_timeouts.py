"""SetWorkflowTimeout: absolute deadlines, inherited by children, computed at dequeue, reset by resume."""

from __future__ import annotations

import time

import pytest

from dbos_django import DBOS, Queue, SetWorkflowID, SetWorkflowTimeout
from dbos_django.error import DBOSAwaitedWorkflowCancelledError, DBOSException
from dbos_django.models import Workflow
from tests.app.models import SideEffect

timeout_queue = Queue("test-timeouts", polling_interval_sec=0.05)


@DBOS.step()
def tick(key: str) -> None:
    SideEffect.objects.create(key=key)


@DBOS.workflow()
def slow_steps(tag: str, count: int, pause: float) -> str:
    for i in range(count):
        tick(f"{tag}-{i}")
        time.sleep(pause)
    return "finished"


@DBOS.workflow()
def child_deadline() -> int | None:
    return Workflow.objects.get(workflow_id=DBOS.workflow_id).workflow_deadline_epoch_ms


def test_a_workflow_past_its_deadline_ends_cancelled_at_its_next_checkpoint(dbos):
    with SetWorkflowTimeout(0.2), SetWorkflowID("t-1"), pytest.raises(DBOSAwaitedWorkflowCancelledError):
        slow_steps("t1", 10, 0.1)
    assert Workflow.objects.get(workflow_id="t-1").status == "CANCELLED"
    assert SideEffect.objects.filter(key__startswith="t1").count() < 10


def test_a_durable_sleep_past_the_deadline_is_cut_short(dbos):
    @DBOS.workflow()
    def sleeper() -> str:
        DBOS.sleep(30)
        return "woke"

    started = time.monotonic()
    with SetWorkflowTimeout(0.3), SetWorkflowID("t-2"), pytest.raises(DBOSAwaitedWorkflowCancelledError):
        sleeper()
    assert time.monotonic() - started < 10


def test_the_deadline_is_absolute_and_children_inherit_it(dbos):
    @DBOS.workflow()
    def parent() -> tuple[int | None, int | None]:
        return Workflow.objects.get(workflow_id=DBOS.workflow_id).workflow_deadline_epoch_ms, child_deadline()

    with SetWorkflowTimeout(60):
        own, childs = parent()
    assert own is not None and own == childs


def test_set_workflow_timeout_none_detaches_a_child(dbos):
    @DBOS.workflow()
    def parent() -> int | None:
        with SetWorkflowTimeout(None):
            return child_deadline()

    with SetWorkflowTimeout(60):
        assert parent() is None


def test_a_queued_workflows_deadline_starts_when_it_is_dequeued(dbos):
    with SetWorkflowTimeout(60), SetWorkflowID("t-3"):
        handle = timeout_queue.enqueue(child_deadline)
    row = Workflow.objects.get(workflow_id="t-3")
    assert row.workflow_timeout_ms == 60_000
    deadline = handle.get_result()
    row.refresh_from_db()
    assert deadline == row.started_at + 60_000


def test_resume_recomputes_the_deadline(dbos):
    with SetWorkflowTimeout(0.2), SetWorkflowID("t-4"), pytest.raises(DBOSAwaitedWorkflowCancelledError):
        timeout_queue.enqueue(slow_steps, "t4", 4, 0.1).get_result()
    first_deadline = Workflow.objects.get(workflow_id="t-4").workflow_deadline_epoch_ms
    Workflow.objects.filter(workflow_id="t-4").update(workflow_timeout_ms=60_000)
    assert DBOS.resume_workflow("t-4").get_result() == "finished"
    assert Workflow.objects.get(workflow_id="t-4").workflow_deadline_epoch_ms > first_deadline


@pytest.mark.parametrize("seconds", [0, -1])
def test_a_non_positive_timeout_is_refused(seconds):
    with pytest.raises(DBOSException, match="timeout"):
        SetWorkflowTimeout(seconds)
