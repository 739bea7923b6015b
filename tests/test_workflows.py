"""Workflows: start, steps, outcomes, idempotent ids, conflicts."""

from __future__ import annotations

import pytest

from dbos_django import DBOS, SetWorkflowID
from dbos_django.error import DBOSConflictingWorkflowError, DBOSException
from tests.app.models import SideEffect


@DBOS.step()
def add_one(x: int) -> int:
    SideEffect.objects.create(key=f"add_one:{x}")
    return x + 1


@DBOS.workflow()
def three_steps(x: int) -> int:
    return add_one(add_one(add_one(x)))


@DBOS.workflow()
def failing(message: str) -> None:
    add_one(0)
    raise ValueError(message)


@DBOS.workflow()
def other_workflow(x: int) -> int:
    return x


def test_a_workflow_returns_its_value_and_records_success(dbos):
    with SetWorkflowID("wf-value"):
        assert three_steps(1) == 4
    status = DBOS.get_workflow_status("wf-value")
    assert status.status == "SUCCESS"
    assert status.output == 4
    assert status.input == {"args": (1,), "kwargs": {}}
    assert status.name == "three_steps"
    assert status.recovery_attempts == 1


def test_steps_are_numbered_from_one_with_their_names(dbos):
    with SetWorkflowID("wf-steps"):
        three_steps(1)
    steps = DBOS.list_workflow_steps("wf-steps")
    assert [(s["function_id"], s["function_name"], s["output"]) for s in steps] == [
        (1, "add_one", 2), (2, "add_one", 3), (3, "add_one", 4),
    ]


def test_a_workflow_error_is_recorded_and_raised(dbos):
    with SetWorkflowID("wf-error"), pytest.raises(ValueError, match="boom"):
        failing("boom")
    status = DBOS.get_workflow_status("wf-error")
    assert status.status == "ERROR"
    assert isinstance(status.error, ValueError) and str(status.error) == "boom"


def test_rerunning_a_finished_id_returns_the_recorded_result_without_running(dbos):
    with SetWorkflowID("wf-once"):
        three_steps(1)
    with SetWorkflowID("wf-once"):
        assert three_steps(1) == 4
    assert SideEffect.objects.count() == 3
    assert DBOS.get_workflow_status("wf-once").recovery_attempts == 1


def test_rerunning_a_failed_id_raises_the_recorded_error(dbos):
    with SetWorkflowID("wf-fail-once"), pytest.raises(ValueError):
        failing("first")
    with SetWorkflowID("wf-fail-once"), pytest.raises(ValueError, match="first"):
        failing("second")
    assert SideEffect.objects.count() == 1


def test_another_function_under_the_same_id_conflicts(dbos):
    with SetWorkflowID("wf-conflict"):
        three_steps(1)
    with SetWorkflowID("wf-conflict"), pytest.raises(DBOSConflictingWorkflowError, match="different function name"):
        other_workflow(1)


def test_set_workflow_id_applies_to_the_first_workflow_only(dbos):
    with SetWorkflowID("wf-first"):
        other_workflow(1)
        other_workflow(2)
    assert DBOS.get_workflow_status("wf-first").output == 1


def test_an_empty_workflow_id_is_refused():
    with pytest.raises(DBOSException, match="non-empty"):
        SetWorkflowID("  ")


def test_workflow_id_is_visible_in_the_body_and_in_steps(dbos):
    seen = []

    @DBOS.step()
    def look() -> None:
        seen.append((DBOS.workflow_id, DBOS.step_id))

    @DBOS.workflow()
    def wf() -> None:
        seen.append((DBOS.workflow_id, DBOS.step_id))
        look()

    with SetWorkflowID("wf-ctx"):
        wf()
    assert seen == [("wf-ctx", None), ("wf-ctx", 1)]
    assert DBOS.workflow_id is None


def test_calling_a_workflow_before_launch_is_a_clear_error(transactional_db):
    with pytest.raises(DBOSException, match="DBOS.launch"):
        three_steps(1)


def test_start_workflow_runs_in_the_background_and_returns_a_handle(dbos):
    with SetWorkflowID("wf-started"):
        handle = DBOS.start_workflow(three_steps, 10)
    assert handle.workflow_id == "wf-started"
    assert handle.get_result() == 13
    assert handle.get_status().status == "SUCCESS"
    assert DBOS.retrieve_workflow("wf-started").get_result() == 13
    assert DBOS.get_result("wf-started") == 13


def test_start_workflow_of_a_finished_id_does_not_run_it_again(dbos):
    with SetWorkflowID("wf-started-once"):
        DBOS.start_workflow(three_steps, 1).get_result()
    with SetWorkflowID("wf-started-once"):
        assert DBOS.start_workflow(three_steps, 1).get_result() == 4
    assert SideEffect.objects.count() == 3


def test_start_workflow_of_a_non_workflow_is_a_clear_error(dbos):
    with pytest.raises(DBOSException, match="not a workflow"):
        DBOS.start_workflow(len, [])


def test_retrieve_workflow_of_an_unknown_id_raises(dbos):
    from dbos_django.error import DBOSNonExistentWorkflowError

    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.retrieve_workflow("no-such-workflow")
    assert DBOS.get_workflow_status("no-such-workflow") is None
