"""Workflow control: cancel, resume, fork, delete, wait_first (sync and async)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dbos_django import DBOS, Queue, SetWorkflowID
from dbos_django.error import DBOSAwaitedWorkflowCancelledError, DBOSNonExistentWorkflowError
from dbos_django.models import StepOutput, Workflow
from tests.app.models import SideEffect
from tests.conftest import wait_for

control_queue = Queue("test-control", concurrency=1, polling_interval_sec=0.05)
gates: dict[str, threading.Event] = {}


def gate(name: str) -> threading.Event:
    return gates.setdefault(name, threading.Event())


@DBOS.step()
def effect(key: str) -> str:
    SideEffect.objects.create(key=key)
    return key


@DBOS.step()
def wait_at(name: str) -> None:
    gate(name).wait(10)


@DBOS.workflow()
def gated(tag: str) -> str:
    effect(f"{tag}-1")
    wait_at(tag)
    effect(f"{tag}-2")
    return f"{tag}-done"


@pytest.fixture(autouse=True)
def open_gates(request):
    yield
    gates.clear()


@pytest.fixture
def dbos(dbos):
    """The runtime, with every gate opened before it is destroyed (so no workflow is left waiting)."""
    yield dbos
    for event in gates.values():
        event.set()


def started(workflow_id: str, steps: int) -> bool:
    return StepOutput.objects.filter(workflow_id=workflow_id).count() >= steps


def test_a_cancelled_workflow_stops_at_its_next_checkpoint(dbos):
    with SetWorkflowID("c-1"):
        handle = DBOS.start_workflow(gated, "c1")
    wait_for(lambda: started("c-1", 1))  # step 1 checkpointed (its side effect commits before it)
    DBOS.cancel_workflow("c-1")
    gate("c1").set()
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert DBOS.get_workflow_status("c-1").status == "CANCELLED"
    DBOS.destroy(workflow_completion_timeout_sec=5)
    assert not SideEffect.objects.filter(key="c1-2").exists()
    assert [s["function_id"] for s in DBOS.list_workflow_steps("c-1")] == [1]


def test_a_resumed_workflow_continues_from_its_last_checkpoint_and_the_old_handle_returns(dbos):
    with SetWorkflowID("c-2"):
        handle = DBOS.start_workflow(gated, "c2")
    wait_for(lambda: started("c-2", 1))  # step 1 checkpointed (its side effect commits before it)
    DBOS.cancel_workflow("c-2")
    gate("c2").set()
    wait_for(lambda: DBOS.get_workflow_status("c-2").status == "CANCELLED")
    resumed = DBOS.resume_workflow("c-2")
    assert resumed.get_result() == "c2-done"
    assert handle.get_result() == "c2-done"
    assert SideEffect.objects.filter(key="c2-1").count() == 1  # step 1 did not run again
    assert DBOS.get_workflow_status("c-2").recovery_attempts == 1  # reset by resume, +1 at its claim


def test_cancel_removes_a_queued_workflow_from_its_queues_concurrency(dbos):
    with SetWorkflowID("c-3"):
        control_queue.enqueue(gated, "c3")
    wait_for(lambda: SideEffect.objects.filter(key="c3-1").exists())
    second = control_queue.enqueue(gated, "c3b")
    DBOS.cancel_workflow("c-3")
    gate("c3b").set()
    assert second.get_result() == "c3b-done"  # the cancelled one no longer holds the only slot
    assert Workflow.objects.get(workflow_id="c-3").queue_name is None


def test_cancel_children_cancels_descendants(dbos):
    @DBOS.workflow()
    def parent() -> str:
        return DBOS.start_workflow(gated, "child").get_result()

    with SetWorkflowID("c-4"):
        DBOS.start_workflow(parent)
    wait_for(lambda: Workflow.objects.filter(workflow_id="c-4-1").exists())
    DBOS.cancel_workflow("c-4", cancel_children=True)
    statuses = dict(Workflow.objects.filter(workflow_id__startswith="c-4").values_list("workflow_id", "status"))
    assert statuses == {"c-4": "CANCELLED", "c-4-1": "CANCELLED"}


def test_cancelling_a_finished_workflow_changes_nothing(dbos):
    gate("c5").set()
    with SetWorkflowID("c-5"):
        gated("c5")
    DBOS.cancel_workflow("c-5")
    assert DBOS.get_workflow_status("c-5").status == "SUCCESS"


def test_resuming_an_unknown_workflow_raises(dbos):
    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.resume_workflow("no-such-workflow")


def test_fork_reuses_the_checkpoints_before_its_start_step(dbos):
    gate("c6").set()
    with SetWorkflowID("c-6"):
        gated("c6")
    with SetWorkflowID("c-6-fork"):
        forked = DBOS.fork_workflow("c-6", 3)
    assert forked.get_result() == "c6-done"
    assert SideEffect.objects.filter(key="c6-1").count() == 1  # step 1 reused
    assert SideEffect.objects.filter(key="c6-2").count() == 2  # step 3 ran again
    row = Workflow.objects.get(workflow_id="c-6-fork")
    assert (row.forked_from, row.recovery_attempts) == ("c-6", 1)


def test_fork_from_step_one_restarts_the_workflow(dbos):
    gate("c7").set()
    with SetWorkflowID("c-7"):
        gated("c7")
    assert DBOS.fork_workflow("c-7", 1).get_result() == "c7-done"
    assert SideEffect.objects.filter(key="c7-1").count() == 2


def test_fork_of_an_unknown_workflow_raises(dbos):
    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.fork_workflow("no-such-workflow", 1)


def test_delete_removes_a_workflow_and_its_checkpoints(dbos):
    gate("c8").set()
    with SetWorkflowID("c-8"):
        gated("c8")
    DBOS.delete_workflow("c-8")
    assert not Workflow.objects.filter(workflow_id="c-8").exists()
    assert not StepOutput.objects.filter(workflow_id="c-8").exists()


def test_delete_with_children_removes_descendants(dbos):
    @DBOS.workflow()
    def parent() -> str:
        return gated("kid")

    gate("kid").set()
    with SetWorkflowID("c-9"):
        parent()
    DBOS.delete_workflow("c-9", delete_children=True)
    assert not Workflow.objects.filter(workflow_id__startswith="c-9").exists()


def test_wait_first_returns_the_first_finished_handle(dbos):
    slow = DBOS.start_workflow(gated, "slow")
    gate("fast").set()
    fast = DBOS.start_workflow(gated, "fast")
    assert DBOS.wait_first([slow, fast]) is fast


@pytest.mark.parametrize("handles", [[], "duplicate"])
def test_wait_first_refuses_no_handles_or_duplicates(dbos, handles):
    if handles == "duplicate":
        gate("d").set()
        one = DBOS.start_workflow(gated, "d")
        handles = [one, one]
    with pytest.raises(ValueError):
        DBOS.wait_first(handles)


def test_control_calls_inside_a_workflow_are_steps(dbos):
    gate("c10").set()
    with SetWorkflowID("c-10-target"):
        gated("c10")

    @DBOS.workflow()
    def operator() -> None:
        DBOS.cancel_workflow("c-10-target")
        DBOS.resume_workflow("c-10-target")
        DBOS.fork_workflow("c-10-target", 1)

    with SetWorkflowID("c-10"):
        operator()
    names = [s["function_name"] for s in DBOS.list_workflow_steps("c-10")]
    assert names == ["DBOS.cancelWorkflow", "DBOS.resumeWorkflow", "DBOS.forkWorkflow"]


def test_the_async_twins_control_workflows(dbos):
    gate("c11").set()
    with SetWorkflowID("c-11"):
        gated("c11")

    async def main() -> tuple[str, str]:
        forked = await DBOS.fork_workflow_async("c-11", 1)
        result = await forked.get_result()
        await DBOS.cancel_workflow_async(forked.workflow_id)
        first = await DBOS.wait_first_async([forked])
        await DBOS.delete_workflow_async("c-11")
        resumed = await DBOS.resume_workflow_async(forked.workflow_id)
        return result, first.workflow_id == resumed.workflow_id

    assert asyncio.run(main()) == ("c11-done", True)
    assert not Workflow.objects.filter(workflow_id="c-11").exists()
