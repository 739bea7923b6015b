"""Recovery at launch: PENDING workflows of this executor and version resume from their checkpoints.

These tests leave the database as a crashed process would (a PENDING row and the checkpoints it
committed), then launch. The real SIGKILL tests are in test_crash.py.
"""

from __future__ import annotations

import pytest

from dbos_django import DBOS
from dbos_django.conf import get as get_settings
from dbos_django.error import DBOSWorkflowFunctionNotFoundError
from dbos_django.models import TERMINAL_STATUSES, StepOutput, Workflow
from dbos_django.serialization import DefaultSerializer
from tests.app.models import SideEffect
from tests.conftest import wait_for


@DBOS.step()
def record_step(key: str) -> str:
    SideEffect.objects.create(key=key)
    return key


@DBOS.workflow()
def two_steps(prefix: str) -> str:
    return record_step(f"{prefix}-1") + "+" + record_step(f"{prefix}-2")


@DBOS.workflow(max_recovery_attempts=2)
def limited() -> str:
    return "ran"


def crashed(workflow_id: str, name: str, *args: object, attempts: int = 1, executor: str = "local",
            version: str | None = None) -> Workflow:  # fmt: skip
    """A PENDING row as a process that died while running the workflow leaves it."""
    serializer = DefaultSerializer()
    return Workflow.objects.create(
        workflow_id=workflow_id, status="PENDING", name=name, inputs=serializer.serialize({"args": list(args), "kwargs": {}}),
        serialization=serializer.name(), executor_id=executor,
        application_version=version or DBOS.application_version,
        application_name=get_settings().application_name, created_at=1, updated_at=1, recovery_attempts=attempts,
    )  # fmt: skip


def finished(workflow_id: str) -> Workflow | None:
    return Workflow.objects.filter(workflow_id=workflow_id, status__in=TERMINAL_STATUSES).first()


@pytest.fixture
def launch(transactional_db):
    yield DBOS.launch
    DBOS.destroy(workflow_completion_timeout_sec=10)


def test_launch_resumes_a_pending_workflow_after_its_last_checkpoint(launch):
    row = crashed("rec-1", "two_steps", "a")
    StepOutput.objects.create(workflow=row, function_id=1, function_name="record_step", output='"a-1"')
    launch()
    done = wait_for(lambda: finished("rec-1"))
    assert done.status == "SUCCESS" and done.output == '"a-1+a-2"'
    assert list(SideEffect.objects.values_list("key", flat=True)) == ["a-2"]  # step 1 did not run again
    assert done.recovery_attempts == 2


def test_recovery_leaves_other_live_executors_workflows_alone(launch):
    crashed("rec-2", "two_steps", "b", executor="another-host")
    launch()
    DBOS.destroy(workflow_completion_timeout_sec=5)
    assert Workflow.objects.get(workflow_id="rec-2").status == "PENDING"
    assert not SideEffect.objects.exists()


def test_recovery_leaves_other_application_versions_alone(launch):
    crashed("rec-3", "two_steps", "c", version="an-older-version")
    launch()
    DBOS.destroy(workflow_completion_timeout_sec=5)
    assert Workflow.objects.get(workflow_id="rec-3").status == "PENDING"


def test_a_workflow_past_its_recovery_attempts_is_dead_lettered(launch):
    crashed("rec-4", "limited", attempts=3)  # started once, recovered twice already
    launch()
    done = wait_for(lambda: finished("rec-4"))
    assert done.status == "MAX_RECOVERY_ATTEMPTS_EXCEEDED"
    from dbos_django.error import DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded

    with pytest.raises(DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded):
        DBOS.retrieve_workflow("rec-4").get_result()


def test_a_workflow_within_its_recovery_attempts_runs(launch):
    crashed("rec-5", "limited", attempts=2)
    launch()
    assert wait_for(lambda: finished("rec-5")).status == "SUCCESS"


def test_a_replay_that_meets_a_different_step_fails_with_unexpected_step(launch):
    row = crashed("rec-6", "two_steps", "d")
    StepOutput.objects.create(workflow=row, function_id=1, function_name="some_other_step", output='"x"')
    launch()
    done = wait_for(lambda: finished("rec-6"))
    assert done.status == "ERROR"
    from dbos_django.error import DBOSUnexpectedStepError

    with pytest.raises(DBOSUnexpectedStepError, match="some_other_step was recorded when record_step was expected"):
        DBOS.get_result("rec-6")


def test_an_unknown_workflow_name_ends_in_error_naming_it(launch):
    crashed("rec-7", "no_such_workflow")
    launch()
    assert wait_for(lambda: finished("rec-7")).status == "ERROR"  # more in test_missing_code.py
    with pytest.raises(DBOSWorkflowFunctionNotFoundError, match="no workflow named 'no_such_workflow'"):
        DBOS.get_result("rec-7")


def test_a_recorded_step_error_is_replayed_on_recovery(launch):
    row = crashed("rec-8", "two_steps", "e")
    StepOutput.objects.create(workflow=row, function_id=1, function_name="record_step",
                              error=DefaultSerializer().serialize_error(KeyError("recorded")))  # fmt: skip
    launch()
    assert wait_for(lambda: finished("rec-8")).status == "ERROR"
    with pytest.raises(KeyError, match="recorded"):
        DBOS.get_result("rec-8")
    assert not SideEffect.objects.exists()
