"""Launch and destroy, the bounded pool, and DBOS's error classes."""

from __future__ import annotations

import pickle
import threading

import pytest

from dbos_django import DBOS, SetWorkflowID, error
from dbos_django.engine import runtime


@DBOS.workflow()
def echo(x: int) -> int:
    return x


def test_launch_and_destroy_can_repeat_in_one_process(transactional_db):
    for round_ in range(3):
        DBOS.launch()
        DBOS.launch()  # idempotent
        assert echo(round_) == round_
        DBOS.destroy()
    assert runtime.get() is None


def test_a_workflow_decorated_after_launch_runs(dbos):
    @DBOS.workflow()
    def late(x: int) -> int:
        return x + 1

    assert late(1) == 2


def test_nothing_starts_until_launch(transactional_db):
    import django.apps

    assert django.apps.apps.is_installed("dbos_django")
    assert runtime.get() is None


def test_the_thread_pool_is_bounded_by_max_threads(transactional_db, settings):
    settings.DBOS = {**settings.DBOS, "MAX_THREADS": 2}
    running, peak, lock, release = [0], [0], threading.Lock(), threading.Event()

    @DBOS.workflow()
    def blocker(i: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return i

    DBOS.launch()
    try:
        handles = [DBOS.start_workflow(blocker, i) for i in range(5)]
        threading.Timer(0.3, release.set).start()
        assert [h.get_result() for h in handles] == list(range(5))
        assert peak[0] == 2
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=5)


def test_dbos_errors_print_their_code():
    assert str(error.DBOSNonExistentWorkflowError("wf-1")) == "DBOS Error 5: Workflow wf-1 does not exist"
    assert str(error.DBOSException("plain")) == "DBOS Error: plain"


@pytest.mark.parametrize(
    "exc",
    [
        error.DBOSConflictingWorkflowError("wf", "msg"),
        error.DBOSUnexpectedStepError("wf", 2, "expected", "recorded"),
        error.DBOSMaxStepRetriesExceeded("step", 3, [ValueError("x")]),
        error.DBOSAwaitedWorkflowCancelledError("wf"),
        error.MaxRecoveryAttemptsExceededError("wf", 5),
        error.DBOSWorkflowCancelledError("cancelled"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_dbos_errors_survive_pickling(exc):
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc) and str(copy) == str(exc) and copy.dbos_error_code == exc.dbos_error_code


def test_cancellation_and_conflict_errors_bypass_except_exception():
    assert not issubclass(error.DBOSWorkflowCancelledError, Exception)
    assert not issubclass(error.DBOSWorkflowConflictIDError, Exception)


def test_unexpected_step_error_names_both_steps():
    text = str(error.DBOSUnexpectedStepError("wf", 3, "charge", "refund"))
    assert "refund was recorded when charge was expected" in text


def test_a_workflow_input_that_cannot_be_stored_is_refused_before_anything_is_written(dbos):
    from dbos_django.models import Workflow

    with SetWorkflowID("bad-input"), pytest.raises(error.DBOSSerializationError, match="inputs of workflow echo"):
        echo(threading.Lock())
    assert not Workflow.objects.filter(workflow_id="bad-input").exists()


def test_a_workflow_output_that_cannot_be_stored_ends_in_error(dbos):
    @DBOS.workflow()
    def returns_lock() -> object:
        return threading.Lock()

    with SetWorkflowID("bad-output"), pytest.raises(error.DBOSSerializationError):
        returns_lock()
    assert DBOS.get_workflow_status("bad-output").status == "ERROR"
