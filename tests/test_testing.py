"""dbos_django.testing: the pytest plugin's runtime, drain(), the fake clock, simulated crashes."""

from __future__ import annotations

import pytest
from django.test import TestCase

from dbos_django import DBOS, Queue, SetEnqueueOptions, SetWorkflowID, SetWorkflowTimeout
from dbos_django import testing as dbos_testing
from dbos_django.error import DBOSAwaitedWorkflowCancelledError, DBOSException
from dbos_django.models import StepOutput, Workflow
from tests.app.models import Account, SideEffect

drained = Queue("test-drained")
ordered = Queue("test-ordered")


@DBOS.step()
def note(key: str) -> str:
    SideEffect.objects.create(key=key)
    return key


@DBOS.workflow()
def three_notes(tag: str) -> str:
    return "+".join(note(f"{tag}-{i}") for i in range(1, 4))


@DBOS.transaction()
def open_account(name: str) -> int:
    return Account.objects.create(name=name).pk


@DBOS.workflow()
def opens_account(name: str) -> int:
    return open_account(name)


@DBOS.workflow()
def napper(hours: float) -> str:
    DBOS.sleep(hours * 3600)
    return "rested"


def keys() -> list[str]:
    return list(SideEffect.objects.order_by("id").values_list("key", flat=True))


@pytest.mark.django_db
def test_a_started_workflow_runs_when_the_test_drains(dbos_runtime):
    handle = DBOS.start_workflow(three_notes, "a")
    assert keys() == []
    assert dbos_runtime.drain() == 1
    assert handle.get_result() == "a-1+a-2+a-3"


@pytest.mark.django_db
def test_get_result_drains_what_it_waits_for(dbos_runtime):
    assert DBOS.start_workflow(three_notes, "b").get_result() == "b-1+b-2+b-3"


@pytest.mark.django_db
def test_rows_written_by_workflows_are_in_the_tests_transaction(dbos_runtime):
    with SetWorkflowID("in-test-tx"):
        pk = opens_account("ada")
    assert Account.objects.get(pk=pk).name == "ada"
    assert Workflow.objects.get(workflow_id="in-test-tx").status == "SUCCESS"


@pytest.mark.django_db
def test_enqueued_workflows_run_in_priority_then_age_order(dbos_runtime):
    for tag, priority in [("late", 5), ("first", None), ("second", 1), ("third", 1)]:
        with SetEnqueueOptions(priority=priority):
            ordered.enqueue(three_notes, tag)
    assert dbos_runtime.drain() == 4
    assert [k.split("-")[0] for k in keys()[::3]] == ["first", "second", "third", "late"]


@pytest.mark.django_db
def test_workflows_enqueued_in_the_same_millisecond_run_in_the_order_they_were_enqueued(dbos_runtime):
    tags = [f"tie{n}" for n in range(12)]  # the fake clock stands still: one created_at for all
    for tag in tags:
        ordered.enqueue(three_notes, tag)
    assert len(set(Workflow.objects.filter(queue_name="test-ordered").values_list("created_at", flat=True))) == 1
    dbos_runtime.drain()
    assert [k.split("-")[0] for k in keys()[::3]] == tags


@pytest.mark.django_db
def test_a_delayed_workflow_waits_for_the_clock(dbos_runtime):
    with SetEnqueueOptions(delay_seconds=60):
        handle = drained.enqueue(three_notes, "later")
    assert dbos_runtime.drain() == 0
    with pytest.raises(DBOSException, match="cannot finish in this test"):
        handle.get_result()
    assert dbos_runtime.advance(60) == 1
    assert handle.get_result() == "later-1+later-2+later-3"


@pytest.mark.django_db
def test_a_durable_sleep_moves_the_fake_clock_instead_of_waiting(dbos_runtime):
    before = dbos_runtime.clock.now_ms()
    with SetWorkflowID("nap"):
        assert napper(5) == "rested"
    assert dbos_runtime.clock.now_ms() - before == 5 * 3600 * 1000
    wake_up = StepOutput.objects.get(workflow_id="nap", function_id=1).completed_at_epoch_ms
    assert wake_up == before + 5 * 3600 * 1000


@pytest.mark.django_db
def test_a_timeout_is_measured_on_the_fake_clock(dbos_runtime):
    with SetWorkflowTimeout(60), SetWorkflowID("timed-out"), pytest.raises(DBOSAwaitedWorkflowCancelledError):
        napper(1)
    assert Workflow.objects.get(workflow_id="timed-out").status == "CANCELLED"


@pytest.mark.django_db
def test_simulate_crash_leaves_the_workflow_pending_after_its_step(dbos_runtime):
    workflow_id = dbos_runtime.simulate_crash(three_notes, "c", after_step=2)
    row = Workflow.objects.get(workflow_id=workflow_id)
    assert (row.status, row.recovery_attempts, row.executor_id, row.output) == ("PENDING", 1, "local", None)
    assert list(StepOutput.objects.filter(workflow_id=workflow_id).values_list("function_id", flat=True)) == [1, 2]
    assert keys() == ["c-1", "c-2"]


@pytest.mark.django_db
def test_recover_finishes_a_crashed_workflow_without_rerunning_its_steps(dbos_runtime):
    workflow_id = dbos_runtime.simulate_crash(three_notes, "d", after_step=1)
    assert dbos_runtime.recover() == 1
    assert DBOS.get_result(workflow_id) == "d-1+d-2+d-3"
    assert keys() == ["d-1", "d-2", "d-3"]
    assert Workflow.objects.get(workflow_id=workflow_id).recovery_attempts == 2


@pytest.mark.django_db
def test_a_crash_after_the_last_step_leaves_no_outcome(dbos_runtime):
    workflow_id = dbos_runtime.simulate_crash(three_notes, "e", after_step=3)
    assert Workflow.objects.get(workflow_id=workflow_id).status == "PENDING"
    dbos_runtime.recover()
    assert keys() == ["e-1", "e-2", "e-3"]
    assert Workflow.objects.get(workflow_id=workflow_id).status == "SUCCESS"


@pytest.mark.django_db
def test_a_retried_step_waits_on_the_fake_clock(dbos_runtime):
    attempts = []

    @DBOS.step(retries_allowed=True, interval_seconds=10, max_attempts=3)
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError
        return len(attempts)

    @DBOS.workflow()
    def wf() -> int:
        return flaky()

    before = dbos_runtime.clock.now_ms()
    assert wf() == 3
    assert dbos_runtime.clock.now_ms() - before == 30_000  # 10 s, then 20 s


class TestCaseSupport(TestCase):
    """A plain Django TestCase: everything happens in the test's transaction and is rolled back."""

    def setUp(self) -> None:
        self.runtime = dbos_testing.launch(clock=dbos_testing.FakeClock())
        self.addCleanup(dbos_testing.destroy)

    def test_workflows_run_inside_the_test_transaction(self) -> None:
        handle = drained.enqueue(opens_account, "testcase")
        self.runtime.drain()
        self.assertTrue(Account.objects.filter(pk=handle.get_result()).exists())

    def test_nothing_is_left_from_the_previous_test(self) -> None:
        self.assertFalse(Account.objects.filter(name="testcase").exists())
        self.assertFalse(Workflow.objects.exists())


@pytest.mark.django_db(transaction=True)
def test_the_live_runtime_fixture_runs_workflows_in_the_background(dbos_live_runtime):
    handle = drained.enqueue(three_notes, "live")
    assert handle.get_result() == "live-1+live-2+live-3"
