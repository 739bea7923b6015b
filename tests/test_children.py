"""Child workflows: DBOS's ids and step accounting."""

from __future__ import annotations

import pytest

from dbos_django import DBOS, SetWorkflowID
from dbos_django.models import Workflow


@DBOS.workflow()
def child(x: int) -> int:
    return x * 10


@DBOS.workflow()
def failing_child() -> None:
    raise KeyError("child failed")


@DBOS.workflow()
def parent_direct(x: int) -> int:
    return child(x) + child(x + 1)


@DBOS.workflow()
def parent_started(x: int) -> int:
    handle = DBOS.start_workflow(child, x)
    return handle.get_result()


def test_a_direct_child_gets_the_parents_id_and_step_number(dbos):
    with SetWorkflowID("parent-1"):
        assert parent_direct(1) == 30
    assert Workflow.objects.get(workflow_id="parent-1-1").parent_workflow_id == "parent-1"
    assert Workflow.objects.get(workflow_id="parent-1-3").status == "SUCCESS"


def test_a_direct_child_takes_two_steps_marker_and_get_result(dbos):
    with SetWorkflowID("parent-2"):
        parent_direct(1)
    steps = DBOS.list_workflow_steps("parent-2")
    assert [(s["function_id"], s["function_name"], s["child_workflow_id"], s["output"]) for s in steps] == [
        (1, "child", "parent-2-1", None),
        (2, "DBOS.getResult", "parent-2-1", 10),
        (3, "child", "parent-2-3", None),
        (4, "DBOS.getResult", "parent-2-3", 20),
    ]


def test_a_started_child_takes_one_step_and_get_result_another(dbos):
    with SetWorkflowID("parent-3"):
        assert parent_started(2) == 20
    steps = DBOS.list_workflow_steps("parent-3")
    assert [(s["function_id"], s["function_name"], s["child_workflow_id"]) for s in steps] == [
        (1, "child", "parent-3-1"),
        (2, "DBOS.getResult", "parent-3-1"),
    ]


def test_a_child_error_is_checkpointed_in_the_parent(dbos):
    @DBOS.workflow()
    def parent() -> str:
        try:
            failing_child()
        except KeyError:
            return "handled"
        return "not raised"

    with SetWorkflowID("parent-4"):
        assert parent() == "handled"
    assert isinstance(DBOS.list_workflow_steps("parent-4")[1]["error"], KeyError)
    assert Workflow.objects.get(workflow_id="parent-4-1").status == "ERROR"


def test_set_workflow_id_names_a_child(dbos):
    @DBOS.workflow()
    def parent() -> int:
        with SetWorkflowID("named-child"):
            return child(5)

    assert parent() == 50
    assert Workflow.objects.get(workflow_id="named-child").parent_workflow_id is not None


def test_introspection_inside_a_workflow_is_a_step(dbos):
    @DBOS.workflow()
    def parent() -> str:
        return DBOS.get_workflow_status(DBOS.workflow_id).status

    with SetWorkflowID("parent-5"):
        assert parent() == "PENDING"
    assert [s["function_name"] for s in DBOS.list_workflow_steps("parent-5")] == ["DBOS.getStatus"]


def test_a_workflow_called_inside_a_step_is_a_plain_call(dbos):
    @DBOS.step()
    def step_calling_workflow() -> int:
        return child(1)

    @DBOS.workflow()
    def parent() -> int:
        return step_calling_workflow()

    with SetWorkflowID("parent-6"):
        assert parent() == 10
    assert not Workflow.objects.filter(parent_workflow_id="parent-6").exists()


@pytest.mark.parametrize("calls", [2])
def test_replaying_a_parent_does_not_rerun_children(dbos, calls):
    for _ in range(calls):
        with SetWorkflowID("parent-7"):
            assert parent_direct(2) == 50
    assert Workflow.objects.filter(parent_workflow_id="parent-7").count() == 2
