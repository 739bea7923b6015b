"""Property-based tests: stored values round-trip, and every invalid call raises a named error and writes nothing.

Hypothesis generates the values. The database is the tests' own (SQLite, or PostgreSQL with DATABASE_URL):
each API property makes its call inside ``nothing_written()``, which compares every row of every
dbos_django table, and of the test app's tables, before and after the call.
"""

from __future__ import annotations

import math
import string
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from dbos_django import (
    DBOS,
    DBOSClient,
    Queue,
    SendMessage,
    Serializer,
    SetEnqueueOptions,
    SetWorkflowID,
    SetWorkflowTimeout,
)
from dbos_django.engine.registry import registry
from dbos_django.error import (
    DBOSInvalidArgumentError,
    DBOSPayloadTooLargeError,
    DBOSSerializationError,
    PortableWorkflowError,
)
from dbos_django.serialization import PICKLE_PREFIX, DefaultSerializer, JSONSerializer, describe, store_value
from tests.db_state import nothing_written

# Hypothesis caches data in ./.hypothesis, which pytest then warns about (an error here): keep it out of the tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "dbos-django-hypothesis")
PURE = settings(max_examples=60, deadline=None, database=None)
WITH_DB = settings(max_examples=15, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
DEFAULT = DefaultSerializer()
JSON_ONLY = JSONSerializer()
QUEUE = Queue("test-properties")
LIMIT = 300  # MAX_PAYLOAD_BYTES in the oversize properties


@DBOS.workflow()
def prop_echo(value: Any) -> Any:
    return value


@DBOS.workflow()
def prop_ticked(scheduled_time: datetime, context: Any) -> None:
    return None


# Values

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
hashable_values = st.integers() | st.text(max_size=5) | st.binary(max_size=5)
python_values = st.recursive(
    st.none() | st.integers() | st.floats() | st.text() | st.binary() | st.decimals(allow_nan=False)
    | st.datetimes() | st.complex_numbers(allow_nan=False) | st.fractions(),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.frozensets(hashable_values, max_size=3)
    | st.dictionaries(hashable_values, inner, max_size=3),
    max_leaves=10,
)  # fmt: skip


def is_json(value: Any) -> bool:
    """The JSON-only serializer's domain, written independently of it."""
    if value is None or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is list:
        return all(map(is_json, value))
    if type(value) is dict:
        return all(type(k) is str and is_json(v) for k, v in value.items())
    return False


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 is not 1.0 is not True; -0.0 is not 0.0; nan is nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@PURE
@given(json_values)
def test_a_json_value_round_trips_exactly_and_is_stored_as_plain_json(value: Any) -> None:
    for serializer in (DEFAULT, JSON_ONLY):
        text = serializer.serialize(value)
        assert not text.startswith(PICKLE_PREFIX)
        assert same(serializer.deserialize(text), value)


@PURE
@given(python_values)
def test_any_picklable_value_round_trips_with_its_types_through_the_default_serializer(value: Any) -> None:
    assert same(DEFAULT.deserialize(DEFAULT.serialize(value)), value)


@PURE
@given(python_values)
def test_the_json_serializer_refuses_exactly_the_values_that_are_not_json(value: Any) -> None:
    if is_json(value):
        assert same(JSON_ONLY.deserialize(JSON_ONLY.serialize(value)), value)
    else:
        with pytest.raises(DBOSSerializationError, match="JSON serializer"):
            JSON_ONLY.serialize(value)


@PURE
@given(message=st.text(), kind=st.sampled_from([ValueError, KeyError, RuntimeError, TypeError, LookupError]))
def test_an_error_round_trips_as_itself_or_as_a_portable_error(message: str, kind: type[Exception]) -> None:
    error = kind(message)
    back = DEFAULT.deserialize_error(DEFAULT.serialize_error(error))
    assert type(back) is kind and back.args == error.args
    portable = JSON_ONLY.deserialize_error(JSON_ONLY.serialize_error(error))
    assert isinstance(portable, PortableWorkflowError)
    assert (portable.name, portable.message) == (kind.__name__, str(error))


class Trap:
    """A pickle that would create a file if it were ever loaded."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (Path(self.marker),))


@PURE
@given(python_values)
def test_describing_a_stored_value_never_unpickles_it(value: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        marker = str(Path(folder) / "unpickled")
        text = DEFAULT.serialize([value, Trap(marker)])
        shown = describe(text)
        assert shown.startswith("<pickled") and not Path(marker).exists()


class Raw(Serializer):
    """Stores text as it is: its UTF-8 size is what the limit measures."""

    def name(self) -> str:
        return "raw"

    def serialize(self, value: Any) -> str:
        return str(value)

    def deserialize(self, text: str) -> Any:
        return text


@PURE
@given(limit=st.integers(1, 2000), value=st.text(max_size=800))
def test_a_value_is_stored_if_and_only_if_its_utf8_size_is_within_the_limit(limit: int, value: str) -> None:
    size = len(value.encode("utf-8"))
    with override_settings(DBOS={**django_settings.DBOS, "MAX_PAYLOAD_BYTES": limit}):
        if size <= limit:
            assert store_value(Raw(), value, "the value") == value
        else:
            with pytest.raises(DBOSPayloadTooLargeError) as info:
                store_value(Raw(), value, "the value")
            assert (info.value.size, info.value.limit) == (size, limit)
            assert f"the value is {size} bytes" in str(info.value) and f"limit of {limit} bytes" in str(info.value)


# The public API, on the database


@pytest.fixture
def targets(dbos_runtime: Any) -> Iterator[dict[str, str]]:
    """A finished workflow and a queued one: valid targets, so that only the argument under test is wrong."""
    with SetWorkflowID("prop-done"):
        DBOS.start_workflow(prop_echo, 1)
    dbos_runtime.drain()
    with SetWorkflowID("prop-waiting"):
        QUEUE.enqueue(prop_echo, 2)  # not drained: it stays ENQUEUED
    yield {"done": "prop-done", "waiting": "prop-waiting"}


def refused(call: Callable[[], Any], error: type[BaseException] = DBOSInvalidArgumentError) -> BaseException:
    """Make ``call``; it must raise ``error`` and change no row. Return the error."""
    with nothing_written(), pytest.raises(error) as info:
        result = call()
        if isinstance(result, Iterator):
            next(result)
    return info.value


bad_ids = st.one_of(
    st.just(""), st.text(alphabet=" \t\n", min_size=1, max_size=4), st.none(), st.booleans(), st.integers(),
    st.floats(), st.binary(max_size=4), st.lists(st.text(max_size=3), max_size=2),
)  # fmt: skip
ID_CALLS: dict[str, Callable[[Any], Any]] = {
    "SetWorkflowID": SetWorkflowID,
    "retrieve_workflow": DBOS.retrieve_workflow,
    "get_workflow_status": DBOS.get_workflow_status,
    "get_result": DBOS.get_result,
    "list_workflow_steps": DBOS.list_workflow_steps,
    "send": lambda wid: DBOS.send(wid, "hello"),
    "send_bulk": lambda wid: DBOS.send_bulk([SendMessage("prop-waiting", 1), SendMessage(wid, 2)]),
    "cancel_workflow": DBOS.cancel_workflow,
    "cancel_workflows": lambda wid: DBOS.cancel_workflows(["prop-waiting", wid]),
    "resume_workflow": DBOS.resume_workflow,
    "resume_workflows": lambda wid: DBOS.resume_workflows(["prop-done", wid]),
    "fork_workflow": lambda wid: DBOS.fork_workflow(wid, 1),
    "delete_workflow": DBOS.delete_workflow,
    "delete_workflows": lambda wid: DBOS.delete_workflows(["prop-waiting", wid]),
    "get_event": lambda wid: DBOS.get_event(wid, "key", 0),
    "get_all_events": DBOS.get_all_events,
    "read_stream": lambda wid: DBOS.read_stream(wid, "key"),
    "DBOSClient.retrieve_workflow": lambda wid: DBOSClient().retrieve_workflow(wid),
    "DBOSClient.cancel_workflow": lambda wid: DBOSClient().cancel_workflow(wid),
    "DBOSClient.send": lambda wid: DBOSClient().send(wid, "hello"),
}


@WITH_DB
@pytest.mark.parametrize("call", sorted(ID_CALLS))
@given(workflow_id=bad_ids)
def test_an_empty_or_non_string_workflow_id_is_refused_by_every_call(targets: Any, call: str, workflow_id: Any) -> None:
    error = refused(lambda: ID_CALLS[call](workflow_id))
    assert "must be a non-empty string" in str(error) or "list of workflow IDs" in str(error)


@WITH_DB
@given(ids=st.text(min_size=1, max_size=5))
def test_a_bare_string_is_not_taken_for_a_list_of_ids(targets: Any, ids: str) -> None:
    for call in (DBOS.cancel_workflows, DBOS.resume_workflows, DBOS.delete_workflows):
        assert "pass a list of workflow IDs" in str(refused(lambda call=call: call(ids)))


@WITH_DB
@given(step=st.one_of(st.integers(max_value=0), st.floats(), st.text(max_size=2), st.none(), st.booleans()))
def test_a_fork_from_a_step_below_one_or_not_an_integer_is_refused(targets: Any, step: Any) -> None:
    assert "start step" in str(refused(lambda: DBOS.fork_workflow("prop-done", step)))


not_finite = st.sampled_from([math.nan, math.inf, -math.inf])
not_a_number = st.one_of(st.text(max_size=3), st.booleans(), st.lists(st.integers(), max_size=1), st.just(b"1"))
not_seconds = not_finite | not_a_number
not_positive_seconds = not_seconds | st.floats(max_value=0, allow_nan=False) | st.integers(max_value=0)
TIMEOUT_CALLS: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "SetWorkflowTimeout": (not_positive_seconds, SetWorkflowTimeout),
    "fork_workflow timeout_seconds": (not_positive_seconds,
                                      lambda t: DBOS.fork_workflow("prop-done", 1, timeout_seconds=t)),
    "get_result polling_interval_sec": (not_positive_seconds,
                                        lambda t: DBOS.get_result("prop-done", polling_interval_sec=t)),
    "sleep": (not_seconds, DBOS.sleep),
    "get_event timeout_seconds": (not_seconds, lambda t: DBOS.get_event("prop-done", "key", t)),
    "read_stream timeout_seconds": (not_seconds, lambda t: DBOS.read_stream("prop-done", "key", timeout_seconds=t)),
    "SetEnqueueOptions delay_seconds": (not_seconds, lambda t: _enqueue_with(delay_seconds=t)),
}  # fmt: skip


def _enqueue_with(**options: Any) -> Any:
    with SetEnqueueOptions(**options):
        return QUEUE.enqueue(prop_echo, 3)


@WITH_DB
@pytest.mark.parametrize("call", sorted(TIMEOUT_CALLS))
@given(data=st.data())
def test_a_timeout_that_is_nan_infinite_or_not_a_number_is_refused(targets: Any, call: str, data: Any) -> None:
    strategy, make = TIMEOUT_CALLS[call]
    value = data.draw(strategy, label="seconds")
    assert "number of seconds" in str(refused(lambda: make(value)))


@WITH_DB
@given(priority=st.one_of(st.integers(max_value=0), st.integers(min_value=2**31), st.floats(), st.text(max_size=2),
                          st.booleans()))  # fmt: skip
def test_a_priority_outside_one_to_two_to_the_31_is_refused(targets: Any, priority: Any) -> None:
    assert "priority" in str(refused(lambda: _enqueue_with(priority=priority)))


not_a_count = st.one_of(st.integers(max_value=0), st.floats(), st.text(max_size=3), st.booleans())
not_a_period = st.one_of(st.floats(max_value=0), not_finite, st.text(max_size=2), st.booleans())
bad_limiters = st.one_of(
    st.fixed_dictionaries({"limit": not_a_count, "period": st.floats(0.1, 10)}),
    st.fixed_dictionaries({"limit": st.integers(1, 10), "period": not_a_period}),
    st.fixed_dictionaries({"limit": st.integers(1, 10)}), st.fixed_dictionaries({"period": st.floats(0.1, 10)}),
    st.integers(), st.text(max_size=3),
)  # fmt: skip
bad_queue_options = st.one_of(
    st.tuples(st.sampled_from(["concurrency", "worker_concurrency", "partition_concurrency",
                               "partition_worker_concurrency"]), not_a_count),
    st.tuples(st.sampled_from(["limiter", "partition_limiter"]), bad_limiters),
    st.tuples(st.just("polling_interval_sec"), st.one_of(st.floats(max_value=0), not_finite, not_a_number)),
)  # fmt: skip


@WITH_DB
@given(option=bad_queue_options)
def test_bad_queue_limits_are_refused_by_queue_and_register_queue(targets: Any, option: tuple[str, Any]) -> None:
    key, value = option
    declared = dict(registry.queues)
    refused(lambda: Queue("prop-bad-limits", **{key: value}))
    refused(lambda: DBOS.register_queue("prop-bad-limits", **{key: value}))
    assert registry.queues == declared


@WITH_DB
@given(name=st.one_of(st.just(""), st.text(alphabet=" \t", min_size=1, max_size=3), st.none(), st.integers()))
def test_a_queue_name_that_is_empty_or_not_a_string_is_refused(targets: Any, name: Any) -> None:
    declared = dict(registry.queues)
    refused(lambda: Queue(name))
    refused(lambda: DBOS.register_queue(name))
    assert registry.queues == declared


@WITH_DB
@given(name=st.text(min_size=1, max_size=20))
def test_an_unknown_queue_is_refused_by_every_call_that_names_one(targets: Any, name: str) -> None:
    assume(name not in registry.queues and not name.startswith("_dbos"))
    refused(lambda: DBOS.enqueue_workflow(name, prop_echo, 1))
    refused(lambda: DBOS.fork_workflow("prop-done", 1, queue_name=name))
    refused(lambda: DBOS.resume_workflow("prop-waiting", queue_name=name))
    refused(lambda: DBOS.create_schedule(schedule_name="prop-s", workflow_fn=prop_ticked, schedule="* * * * *",
                                         queue_name=name))  # fmt: skip


cron_field = st.sampled_from(["*", "5", "*/10", "1-5", "0", "1,2"])
bad_crons = st.one_of(
    st.lists(cron_field, max_size=4).map(" ".join),  # too few fields
    st.lists(cron_field, min_size=7, max_size=9).map(" ".join),  # too many
    st.tuples(st.integers(0, 4), st.integers(60, 999)).map(  # a field out of its range (minute 60, month 13...)
        lambda p: " ".join(str(p[1] if i == p[0] else "*") for i in range(5))),
    st.text(alphabet=string.ascii_letters + "?!#", min_size=1, max_size=10),  # one word
    st.none(), st.integers(),
)  # fmt: skip


@WITH_DB
@given(expression=bad_crons)
def test_a_bad_cron_expression_is_refused(targets: Any, expression: Any) -> None:
    scheduled = dict(registry.schedules)
    refused(lambda: DBOS.create_schedule(schedule_name="prop-s", workflow_fn=prop_ticked, schedule=expression))
    refused(lambda: DBOS.apply_schedules([{"schedule_name": "prop-s", "workflow_fn": prop_ticked, "schedule": expression}]))
    refused(lambda: DBOS.scheduled(expression)(prop_ticked))
    assert registry.schedules == scheduled


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except Exception:
        return False
    return True


@WITH_DB
@given(zone=st.one_of(st.text(max_size=30), st.sampled_from(["America", "Etc", "Mars/Olympus", "../etc/passwd", "/",
                                                             "utc", "Europe/Paris ", "zone.tab", "a" * 300])))  # fmt: skip
def test_an_unknown_time_zone_is_refused(targets: Any, zone: str) -> None:
    assume(not is_zone(zone))
    error = refused(lambda: DBOS.create_schedule(schedule_name="prop-s", workflow_fn=prop_ticked, schedule="* * * * *",
                                                 cron_timezone=zone))  # fmt: skip
    assert "time zone" in str(error)


unpicklable = st.sampled_from([threading.Lock(), (n for n in range(3)), lambda: 1])


@WITH_DB
@given(value=st.one_of(unpicklable, st.lists(unpicklable, min_size=1, max_size=2), st.dictionaries(
    st.text(max_size=3), unpicklable, min_size=1, max_size=2)))  # fmt: skip
def test_an_argument_that_cannot_be_stored_is_refused_before_anything_is_written(targets: Any, value: Any) -> None:
    for call in (lambda: DBOS.start_workflow(prop_echo, value), lambda: DBOS.enqueue_workflow(QUEUE.name, prop_echo, value),
                 lambda: QUEUE.enqueue(prop_echo, value), lambda: DBOS.send("prop-waiting", value),
                 lambda: DBOS.create_schedule(schedule_name="prop-s", workflow_fn=prop_ticked, schedule="* * * * *",
                                              context=value),
                 lambda: DBOSClient().enqueue({"workflow_name": prop_echo.__qualname__, "queue_name": QUEUE.name}, value)):  # fmt: skip
        assert "Cannot store" in str(refused(call, DBOSSerializationError))


@WITH_DB
@given(size=st.integers(LIMIT + 1, 4 * LIMIT), char=st.characters(codec="utf-8"))
def test_a_payload_over_the_limit_is_refused_before_anything_is_written(targets: Any, size: int, char: str) -> None:
    value = char * size
    with override_settings(DBOS={**django_settings.DBOS, "MAX_PAYLOAD_BYTES": LIMIT}):
        for call in (lambda: DBOS.start_workflow(prop_echo, value), lambda: DBOS.enqueue_workflow(QUEUE.name, prop_echo, value),
                     lambda: DBOS.send("prop-waiting", value),
                     lambda: DBOS.send_bulk([SendMessage("prop-waiting", 1), SendMessage("prop-waiting", value)]),
                     lambda: DBOS.create_schedule(schedule_name="prop-s", workflow_fn=prop_ticked, schedule="* * * * *",
                                                  context=value),
                     lambda: DBOSClient().enqueue({"workflow_name": prop_echo.__qualname__, "queue_name": QUEUE.name},
                                                  value)):  # fmt: skip
            error = refused(call, DBOSPayloadTooLargeError)
            assert isinstance(error, DBOSPayloadTooLargeError) and error.limit == LIMIT and error.size > LIMIT
