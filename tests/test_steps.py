"""Steps: checkpoints, retries with backoff, errors replayed, nondeterminism detected."""

from __future__ import annotations

import pytest

from dbos_django import DBOS, SetWorkflowID
from dbos_django.engine import clock
from dbos_django.error import DBOSException, DBOSMaxStepRetriesExceeded
from tests.app.models import SideEffect


class RecordingClock(clock.Clock):
    """A clock whose sleeps return at once and are remembered."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def fast_clock():
    fake = RecordingClock()
    previous = clock.install(fake)
    yield fake
    clock.install(previous)


def test_a_step_outside_a_workflow_is_a_plain_call(transactional_db):
    @DBOS.step()
    def plain(x: int) -> int:
        return x * 2

    assert plain(4) == 8


def test_a_retried_step_succeeds_after_failures_with_backoff(dbos, fast_clock):
    calls = []

    @DBOS.step(retries_allowed=True, interval_seconds=1.0, backoff_rate=2.0, max_attempts=4)
    def flaky() -> str:
        calls.append(DBOS.step_status)
        if len(calls) < 3:
            raise ConnectionError("try again")
        return "ok"

    @DBOS.workflow()
    def wf() -> str:
        return flaky()

    assert wf() == "ok"
    assert fast_clock.slept == [1.0, 2.0]
    assert [(s.step_id, s.current_attempt, s.max_attempts) for s in calls] == [(1, 1, 4), (1, 2, 4), (1, 3, 4)]


def test_exhausted_retries_raise_max_step_retries_exceeded_with_each_error(dbos, fast_clock):
    @DBOS.step(retries_allowed=True, max_attempts=3)
    def always_fails() -> None:
        raise ConnectionError("down")

    @DBOS.workflow()
    def wf() -> None:
        always_fails()

    with pytest.raises(DBOSMaxStepRetriesExceeded) as info:
        wf()
    assert len(info.value.errors) == 3
    assert all(isinstance(e, ConnectionError) for e in info.value.errors)


def test_should_retry_false_stops_retrying_at_once(dbos, fast_clock):
    calls = []

    @DBOS.step(retries_allowed=True, max_attempts=5, should_retry=lambda e: not isinstance(e, KeyError))
    def fails() -> None:
        calls.append(1)
        raise KeyError("permanent")

    @DBOS.workflow()
    def wf() -> None:
        fails()

    with pytest.raises(KeyError):
        wf()
    assert calls == [1]
    assert fast_clock.slept == []


def test_retry_delays_are_capped_at_an_hour(dbos, fast_clock):
    @DBOS.step(retries_allowed=True, interval_seconds=1000, backoff_rate=10, max_attempts=3)
    def fails() -> None:
        raise ValueError

    @DBOS.workflow()
    def wf() -> None:
        fails()

    with pytest.raises(DBOSMaxStepRetriesExceeded):
        wf()
    assert fast_clock.slept == [1000, 3600]


def test_invalid_step_options_fail_at_decoration():
    with pytest.raises(DBOSException, match="max_attempts"):

        @DBOS.step(retries_allowed=True, max_attempts=0)
        def never() -> None: ...


def test_a_recorded_step_error_is_replayed_without_running_the_step(dbos):
    @DBOS.step()
    def explode() -> None:
        SideEffect.objects.create(key="explode")
        raise RuntimeError("recorded")

    @DBOS.workflow()
    def wf() -> str:
        try:
            explode()
        except RuntimeError as exc:
            return f"caught {exc}"
        return "no error"

    with SetWorkflowID("step-error"):
        assert wf() == "caught recorded"
    steps = DBOS.list_workflow_steps("step-error")
    assert isinstance(steps[0]["error"], RuntimeError)
    assert SideEffect.objects.count() == 1


def test_a_step_inside_a_step_is_not_checkpointed(dbos):
    @DBOS.step()
    def inner() -> int:
        return 1

    @DBOS.step()
    def outer() -> int:
        return inner() + 1

    @DBOS.workflow()
    def wf() -> int:
        return outer()

    with SetWorkflowID("nested-steps"):
        assert wf() == 2
    assert [s["function_name"] for s in DBOS.list_workflow_steps("nested-steps")] == [outer.__qualname__]


def test_run_step_checkpoints_any_callable(dbos):
    @DBOS.workflow()
    def wf() -> int:
        return DBOS.run_step({"name": "double"}, lambda x: x * 2, 21)

    with SetWorkflowID("run-step"):
        assert wf() == 42
    assert DBOS.list_workflow_steps("run-step")[0]["function_name"] == "double"


def test_a_step_output_that_cannot_be_stored_fails_the_step(dbos):
    import threading

    @DBOS.step()
    def returns_a_lock() -> object:
        return threading.Lock()

    @DBOS.workflow()
    def wf() -> None:
        returns_a_lock()

    from dbos_django.error import DBOSSerializationError

    with pytest.raises(DBOSSerializationError, match="lock"):
        wf()


def test_step_times_are_recorded(dbos):
    @DBOS.step()
    def quick() -> None:
        return None

    @DBOS.workflow()
    def wf() -> None:
        quick()

    with SetWorkflowID("step-times"):
        wf()
    step = DBOS.list_workflow_steps("step-times")[0]
    assert step["output"] is None
    assert step["started_at_epoch_ms"] <= step["completed_at_epoch_ms"]
