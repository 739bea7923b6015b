"""Bad input, case by case: values over MAX_PAYLOAD_BYTES where they are produced, the JSON-only serializer,
invalid calls inside a workflow, a queue stored with invalid limits. (The generated cases are in
test_properties.py.)"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.checks import run_checks
from pytest_django import Settings

from dbos_django import DBOS, DBOSClient, Queue, SetWorkflowID, testing
from dbos_django.error import (
    DBOSInvalidArgumentError,
    DBOSPayloadTooLargeError,
    DBOSSerializationError,
    PortableWorkflowError,
)
from dbos_django.models import DatabaseQueue, Message, StepOutput, StreamEntry, Workflow, WorkflowEvent
from tests.app.models import SideEffect
from tests.conftest import wait_for
from tests.db_state import nothing_written

LIMIT = 1000
BIG = "x" * 2 * LIMIT
bad_input_queue = Queue("test-bad-input", polling_interval_sec=0.05)


@pytest.fixture
def small_limit(settings: Settings) -> int:
    settings.DBOS = {**settings.DBOS, "MAX_PAYLOAD_BYTES": LIMIT}
    return LIMIT


@DBOS.step()
def big_output() -> str:
    return BIG


@DBOS.workflow()
def returns_a_big_step_output() -> str:
    return big_output()


@DBOS.workflow()
def returns_big() -> str:
    return BIG


@DBOS.transaction()
def insert_then_return_big() -> str:
    SideEffect.objects.create(key="written by the transaction")
    return BIG


@DBOS.workflow()
def big_transaction_output() -> str:
    return insert_then_return_big()


@DBOS.step()
def fails_verbosely() -> None:
    raise ValueError("details " * LIMIT)


@DBOS.workflow()
def big_error() -> None:
    fails_verbosely()


@DBOS.workflow()
def publishes(kind: str) -> None:
    if kind == "event":
        DBOS.set_event("progress", BIG)
    elif kind == "stream":
        DBOS.write_stream("progress", BIG)
    else:
        DBOS.send(DBOS.workflow_id or "", BIG)


def result_error(workflow_id: str) -> BaseException:
    with pytest.raises(BaseException) as info:
        DBOS.retrieve_workflow(workflow_id).get_result()
    return info.value


# MAX_PAYLOAD_BYTES where values are produced: the existing rule for unstorable outputs applies


def test_a_step_output_over_the_limit_becomes_the_steps_error(dbos_runtime: Any, small_limit: int) -> None:
    with SetWorkflowID("big-step"), pytest.raises(DBOSPayloadTooLargeError, match=r"step 1 \(.*big_output\)"):
        returns_a_big_step_output()
    [step] = StepOutput.objects.filter(workflow_id="big-step")
    assert step.output is None
    assert isinstance(DBOS.list_workflow_steps("big-step")[0]["error"], DBOSPayloadTooLargeError)
    assert Workflow.objects.get(pk="big-step").status == "ERROR"
    error = result_error("big-step")
    assert isinstance(error, DBOSPayloadTooLargeError) and (error.size, error.limit) == (len(BIG) + 2, LIMIT)


def test_a_workflow_output_over_the_limit_ends_it_in_error(dbos_runtime: Any, small_limit: int) -> None:
    with SetWorkflowID("big-output"), pytest.raises(DBOSPayloadTooLargeError, match="output of workflow big-output"):
        returns_big()
    row = Workflow.objects.get(pk="big-output")
    assert (row.status, row.output) == ("ERROR", None)
    assert isinstance(result_error("big-output"), DBOSPayloadTooLargeError)


def test_a_transaction_output_over_the_limit_rolls_its_writes_back(dbos_runtime: Any, small_limit: int) -> None:
    with SetWorkflowID("big-transaction"), pytest.raises(DBOSPayloadTooLargeError):
        big_transaction_output()
    assert not SideEffect.objects.exists()
    [step] = DBOS.list_workflow_steps("big-transaction")
    assert isinstance(step["error"], DBOSPayloadTooLargeError) and step["output"] is None


def test_an_error_too_large_to_store_is_stored_as_a_payload_error_naming_it(dbos_runtime: Any,
                                                                           small_limit: int) -> None:  # fmt: skip
    with SetWorkflowID("big-error"), pytest.raises(DBOSPayloadTooLargeError, match=r"\(ValueError\)"):
        big_error()  # the execution that failed raises what a replay will raise
    [step] = DBOS.list_workflow_steps("big-error")
    assert isinstance(step["error"], DBOSPayloadTooLargeError) and "(ValueError)" in str(step["error"])
    assert all(len(text or "") <= LIMIT for text in Workflow.objects.values_list("error", flat=True))


@pytest.mark.parametrize(("kind", "model"), [("event", WorkflowEvent), ("stream", StreamEntry), ("message", Message)])
def test_an_event_a_stream_value_or_a_message_over_the_limit_fails_the_workflow_and_is_not_stored(
    dbos_runtime: Any, small_limit: int, kind: str, model: Any
) -> None:
    with SetWorkflowID(f"big-{kind}"), pytest.raises(DBOSPayloadTooLargeError):
        publishes(kind)
    assert not model.objects.exists()
    assert Workflow.objects.get(pk=f"big-{kind}").status == "ERROR"
    assert DBOS.list_workflow_steps(f"big-{kind}") == []  # the call's step number was never written


def test_without_a_limit_a_value_over_the_default_one_is_stored(dbos_runtime: Any, settings: Settings) -> None:
    settings.DBOS = {**settings.DBOS, "MAX_PAYLOAD_BYTES": None}
    huge = "x" * (5 * 1024 * 1024)
    with SetWorkflowID("no-limit"):
        assert bad_input_echo(huge) == huge
    assert len(Workflow.objects.get(pk="no-limit").output or "") > 5 * 1024 * 1024


def test_the_default_limit_is_four_mebibytes(dbos_runtime: Any) -> None:
    huge = "x" * (4 * 1024 * 1024)
    with nothing_written(), pytest.raises(DBOSPayloadTooLargeError, match="over the limit of 4194304 bytes"):
        DBOS.start_workflow(bad_input_echo, huge)


@pytest.mark.parametrize("value", [0, -1, "4MB", 1.5, True])
def test_the_system_check_reports_an_invalid_max_payload_bytes(settings: Settings, value: Any) -> None:
    settings.DBOS = {**settings.DBOS, "MAX_PAYLOAD_BYTES": value}
    errors = [e for e in run_checks(tags=["dbos"]) if e.id == "dbos_django.E001"]
    assert len(errors) == 1 and "MAX_PAYLOAD_BYTES" in errors[0].msg and "positive number of bytes" in errors[0].msg


# SERIALIZER = "json": only JSON is stored


@pytest.fixture
def json_runtime(db: None, settings: Settings) -> Iterator[Any]:
    settings.DBOS = {**settings.DBOS, "SERIALIZER": "json"}
    runtime = testing.launch(clock=testing.FakeClock())
    yield runtime
    testing.destroy()


@DBOS.workflow()
def bad_input_echo(value: Any) -> Any:
    return value


@DBOS.step()
def a_set() -> set[int]:
    return {1, 2}


@DBOS.workflow()
def returns_a_set_from_a_step() -> Any:
    return a_set()


@pytest.mark.parametrize("value", [{1, 2}, (1, 2), b"bytes", math.nan, {1: "int key"}], ids=repr)
def test_the_json_serializer_refuses_inputs_that_are_not_json_and_writes_nothing(json_runtime: Any,
                                                                                 value: Any) -> None:  # fmt: skip
    for call in (lambda: DBOS.start_workflow(bad_input_echo, value), lambda: bad_input_queue.enqueue(bad_input_echo, value),
                 lambda: DBOSClient().enqueue({"workflow_name": bad_input_echo.__qualname__, "queue_name": bad_input_queue.name},
                                              value)):  # fmt: skip
        with nothing_written(), pytest.raises(DBOSSerializationError, match="JSON serializer"):
            call()


def test_a_step_output_that_is_not_json_fails_the_workflow_with_a_portable_error(json_runtime: Any) -> None:
    with SetWorkflowID("json-set"), pytest.raises(DBOSSerializationError):
        returns_a_set_from_a_step()
    error = result_error("json-set")
    assert isinstance(error, PortableWorkflowError) and error.name == "DBOSSerializationError"
    assert "set" in error.message


# Invalid calls inside a workflow: the workflow fails, naming the argument; nothing of the call is recorded


@DBOS.workflow()
def waits(seconds: Any) -> Any:
    return DBOS.recv("topic", seconds)


@pytest.mark.parametrize("seconds", [math.nan, math.inf, "10"], ids=repr)
def test_recv_with_a_timeout_that_is_not_a_finite_number_fails_the_workflow_and_records_no_wait(
    dbos_runtime: Any, seconds: Any
) -> None:
    with SetWorkflowID("bad-recv"), pytest.raises(DBOSInvalidArgumentError, match="timeout_seconds"):
        waits(seconds)
    assert DBOS.list_workflow_steps("bad-recv") == []


def test_a_negative_recv_timeout_means_no_wait_as_in_dbos(dbos_runtime: Any) -> None:
    with SetWorkflowID("negative-recv"):
        assert waits(-5) is None


@DBOS.workflow()
def sleeps(seconds: float) -> str:
    DBOS.sleep(seconds)
    return "awake"


def test_a_negative_sleep_returns_at_once_and_takes_no_step_as_in_dbos(dbos_runtime: Any) -> None:
    with SetWorkflowID("negative-sleep"):
        assert sleeps(-1) == "awake"
    assert DBOS.list_workflow_steps("negative-sleep") == []


# Calls that gave a bare KeyError, TypeError or ValueError from deep inside


def test_the_same_queue_name_cannot_be_declared_twice() -> None:
    with pytest.raises(DBOSInvalidArgumentError, match="test-bad-input has already been declared"):
        Queue("test-bad-input")


@pytest.mark.django_db
@pytest.mark.parametrize("options", [{}, {"queue_name": "test-bad-input"}, {"workflow_name": "bad_input_echo"},
                                     {"workflow_name": "", "queue_name": "test-bad-input"}])  # fmt: skip
def test_a_client_enqueue_without_a_workflow_or_queue_name_is_refused_by_name(options: dict[str, str]) -> None:
    with nothing_written(), pytest.raises(DBOSInvalidArgumentError, match="workflow_name|queue_name"):
        DBOSClient().enqueue(options, 1)  # type: ignore[arg-type]


@pytest.mark.django_db
@pytest.mark.parametrize("filters", [{"limit": -1}, {"offset": -5}, {"status": "DONE"}, {"status": ["SUCCESS", "OK"]}])
def test_list_workflows_refuses_a_negative_limit_or_an_unknown_status(filters: dict[str, Any]) -> None:
    with pytest.raises(DBOSInvalidArgumentError, match="limit|offset|status"):
        DBOS.list_workflows(**filters)


@pytest.mark.django_db
def test_read_stream_refuses_a_negative_offset_when_called() -> None:
    with pytest.raises(DBOSInvalidArgumentError, match="stream offset -1"):
        DBOS.read_stream("any", "key", offset=-1)  # before any value is asked for


def test_a_queue_stored_in_the_database_is_known_to_enqueue(dbos_runtime: Any) -> None:
    DBOS.register_queue("stored-for-enqueue")
    handle = DBOS.enqueue_workflow("stored-for-enqueue", bad_input_echo, 1)
    assert Workflow.objects.get(pk=handle.workflow_id).queue_name == "stored-for-enqueue"


@pytest.mark.django_db(transaction=True)
def test_a_queue_stored_with_invalid_limits_is_skipped_and_the_others_are_served(
    dbos: Any, caplog: pytest.LogCaptureFixture
) -> None:
    DatabaseQueue.objects.create(name="hand-written", concurrency=-3, created_at=0, updated_at=0)
    with caplog.at_level(logging.ERROR, logger="dbos_django"):
        handle = bad_input_queue.enqueue(bad_input_echo, "still served")
        assert handle.get_result() == "still served"
        wait_for(lambda: "Queue 'hand-written' stored in the database is not served" in caplog.text, timeout=10)


@pytest.mark.django_db
def test_apply_schedules_names_a_missing_key_instead_of_raising_key_error() -> None:
    with nothing_written(), pytest.raises(DBOSInvalidArgumentError, match="it needs schedule$"):
        DBOS.apply_schedules([{"schedule_name": "incomplete", "workflow_fn": bad_input_echo}])  # type: ignore[typeddict-item]


@pytest.mark.django_db
@pytest.mark.parametrize("start", ["2026-01-01", 1_700_000_000, None])
def test_backfill_refuses_a_start_that_is_not_a_datetime(start: Any) -> None:
    from datetime import UTC, datetime

    with nothing_written(), pytest.raises(DBOSInvalidArgumentError, match="backfill start"):
        DBOS.backfill_schedule("any", start, datetime.now(UTC))
