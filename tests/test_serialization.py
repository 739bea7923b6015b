"""How values, inputs and errors become text in the database, and back (``dbos_django.serialization``)."""

from __future__ import annotations

import base64
import datetime
import enum
import json
import math
import pickle
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from dbos_django import error
from dbos_django.error import DBOSSerializationError, PortableWorkflowError
from dbos_django.serialization import (
    PICKLE_PREFIX,
    DefaultSerializer,
    JSONSerializer,
    Serializer,
    describe,
    for_tag,
)

DEFAULT = DefaultSerializer()
JSON_ONLY = JSONSerializer()


@dataclass
class Order:
    order_id: int
    items: tuple[str, ...]


class Color(enum.IntEnum):
    RED = 1


class TwoArgumentError(Exception):
    """Pickles, but cannot be rebuilt: pickle calls ``cls(*self.args)`` with one argument."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{code}-{detail}")


class UnpicklableError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


UNPICKLED: list[str] = []


def _record_unpickling(label: str) -> str:
    UNPICKLED.append(label)
    return label


class SideEffectOnUnpickle:
    """Unpickling this object appends to ``UNPICKLED``."""

    def __reduce__(self) -> Any:
        return (_record_unpickling, ("unpickled!",))


# JSON values: stored as plain JSON, read back exactly

JSON_VALUES: list[Any] = [
    None, True, False, 0, -7, 2**70, 1.5, -0.0, "", "héllo ✓", [], {},
    [1, "two", 3.0, None, [True]], {"a": {"b": [1, {"c": None}]}, "n": 1},
]  # fmt: skip


@pytest.mark.parametrize("serializer", [DEFAULT, JSON_ONLY], ids=["json+pickle", "json"])
@pytest.mark.parametrize("value", JSON_VALUES, ids=repr)
def test_a_json_value_round_trips_exactly(serializer: Serializer, value: Any) -> None:
    back = serializer.deserialize(serializer.serialize(value))
    assert back == value
    assert json.dumps(back) == json.dumps(value)  # same types all the way down (bool stays bool, float stays float)


@pytest.mark.parametrize("serializer", [DEFAULT, JSON_ONLY], ids=["json+pickle", "json"])
@pytest.mark.parametrize("value", JSON_VALUES, ids=repr)
def test_a_json_value_is_stored_as_plain_json_text(serializer: Serializer, value: Any) -> None:
    text = serializer.serialize(value)
    assert not text.startswith(PICKLE_PREFIX)
    assert json.loads(text) == value


def test_json_text_is_compact() -> None:
    assert DEFAULT.serialize({"a": [1, 2], "b": None}) == '{"a":[1,2],"b":null}'


def test_a_string_that_looks_like_the_pickle_prefix_is_still_json() -> None:
    text = DEFAULT.serialize("pickle:gASVAAAA")
    assert text == '"pickle:gASVAAAA"'
    assert DEFAULT.deserialize(text) == "pickle:gASVAAAA"


# Other Python values: pickled, tagged, read back with their types

PICKLED_VALUES: list[Any] = [
    (1, 2, (3,)),
    {1, 2, 3},
    frozenset({"a"}),
    datetime.datetime(2024, 6, 1, 12, 30, tzinfo=datetime.UTC),
    datetime.date(2024, 6, 1),
    {1: "one", 2: "two"},
    {"nested": (1, 2)},
    [1, {2, 3}],
    Decimal("1.10"),
    b"bytes",
    Order(7, ("apple", "pear")),
    Color.RED,
    math.inf,
]


@pytest.mark.parametrize("value", PICKLED_VALUES, ids=repr)
def test_a_value_json_cannot_hold_round_trips_through_tagged_pickle(value: Any) -> None:
    text = DEFAULT.serialize(value)
    assert text.startswith(PICKLE_PREFIX)
    back = DEFAULT.deserialize(text)
    assert back == value
    assert type(back) is type(value)


def test_the_pickle_tag_is_followed_by_base64_of_a_pickle() -> None:
    text = DEFAULT.serialize((1, 2))
    assert pickle.loads(base64.b64decode(text.removeprefix(PICKLE_PREFIX))) == (1, 2)


def test_nan_round_trips_through_pickle() -> None:
    text = DEFAULT.serialize(math.nan)
    assert text.startswith(PICKLE_PREFIX)
    assert math.isnan(DEFAULT.deserialize(text))


def test_an_unpicklable_value_raises_DBOSSerializationError_naming_its_type() -> None:
    with pytest.raises(
        DBOSSerializationError, match="Cannot store a value of type lock: it is neither JSON nor picklable"
    ):
        DEFAULT.serialize(threading.Lock())


def test_DBOSSerializationError_is_a_TypeError() -> None:
    with pytest.raises(TypeError):
        DEFAULT.serialize(lambda: None)


# Errors


@pytest.mark.parametrize(
    "exc", [ValueError("boom"), KeyError("k"), RuntimeError("a", 2), Exception()], ids=repr,
)  # fmt: skip
def test_a_builtin_exception_round_trips_with_its_type_and_args(exc: BaseException) -> None:
    back = DEFAULT.deserialize_error(DEFAULT.serialize_error(exc))
    assert type(back) is type(exc)
    assert back.args == exc.args


DBOS_ERRORS: list[BaseException] = [
    error.DBOSNonExistentWorkflowError("wf-1", "gone"),
    error.DBOSInitializationError("bad config"),
    error.DBOSWorkflowConflictIDError("wf-2"),
    error.DBOSWorkflowCancelledError("wf-3 was cancelled"),
    error.MaxRecoveryAttemptsExceededError("wf-4", 5),
    error.DBOSMaxStepRetriesExceeded("charge", 3, [ValueError("one"), ValueError("two")]),
    error.DBOSUnexpectedStepError("wf-5", 2, "charge", "refund"),
    error.DBOSQueueDeduplicatedError("wf-6", "orders", "dedup-1"),
    error.DBOSSerializationError("no"),
    error.DBOSNotAuthorizedError("forbidden"),
]


@pytest.mark.parametrize("exc", DBOS_ERRORS, ids=lambda e: type(e).__name__)
def test_a_dbos_error_round_trips_with_its_attributes(exc: BaseException) -> None:
    text = DEFAULT.serialize_error(exc)
    assert text.startswith(PICKLE_PREFIX)
    back = DEFAULT.deserialize_error(text)
    assert type(back) is type(exc)
    assert str(back) == str(exc)
    assert back.args == exc.args
    plain = {k: v for k, v in vars(exc).items() if k != "errors"}
    assert {k: v for k, v in vars(back).items() if k != "errors"} == plain


def test_the_errors_of_every_step_attempt_round_trip() -> None:
    exc = error.DBOSMaxStepRetriesExceeded("charge", 2, [ValueError("one"), KeyError("two")])
    back = DEFAULT.deserialize_error(DEFAULT.serialize_error(exc))
    assert isinstance(back, error.DBOSMaxStepRetriesExceeded)
    assert [(type(e), e.args) for e in back.errors] == [(ValueError, ("one",)), (KeyError, ("two",))]


def test_a_dbos_error_keeps_its_error_code() -> None:
    exc = error.DBOSNonExistentWorkflowError("wf-1")
    back = DEFAULT.deserialize_error(DEFAULT.serialize_error(exc))
    assert isinstance(back, error.DBOSNonExistentWorkflowError)
    assert (back.dbos_error_code, back.workflow_id) == (5, "wf-1")
    assert str(back) == "DBOS Error 5: Workflow wf-1 does not exist"


def test_an_error_that_cannot_be_rebuilt_is_stored_as_Exception_with_type_and_message() -> None:
    back = DEFAULT.deserialize_error(DEFAULT.serialize_error(TwoArgumentError(404, "missing")))
    assert type(back) is Exception
    assert str(back) == "TwoArgumentError: 404-missing"


def test_an_error_that_cannot_be_pickled_is_stored_as_Exception_with_type_and_message() -> None:
    back = DEFAULT.deserialize_error(DEFAULT.serialize_error(UnpicklableError("locked")))
    assert type(back) is Exception
    assert str(back) == "UnpicklableError: locked"


def test_an_error_of_a_class_defined_in_a_function_is_stored_as_Exception() -> None:
    class LocalError(Exception):
        pass

    back = DEFAULT.deserialize_error(DEFAULT.serialize_error(LocalError("here")))
    assert type(back) is Exception
    assert str(back) == "LocalError: here"


def test_a_pickled_value_that_is_not_an_error_reads_back_as_an_Exception_of_its_repr() -> None:
    back = DEFAULT.deserialize_error(DEFAULT.serialize((1, 2)))
    assert type(back) is Exception
    assert str(back) == "(1, 2)"


def test_the_default_serializer_reads_an_error_written_by_the_json_serializer() -> None:
    back = DEFAULT.deserialize_error(JSON_ONLY.serialize_error(ValueError("boom")))
    assert isinstance(back, PortableWorkflowError)
    assert (back.name, back.message) == ("ValueError", "boom")


# The JSON-only serializer


@pytest.mark.parametrize(
    ("value", "type_name"),
    [((1, 2), "tuple"), ({1, 2}, "set"), ({1: "one"}, "dict"), ([1, (2,)], "list"), (math.nan, "float"),
     (datetime.date(2024, 6, 1), "date"), (Order(1, ()), "Order"), (b"x", "bytes")],
    ids=repr,
)  # fmt: skip
def test_the_json_serializer_refuses_other_values_naming_their_type(value: Any, type_name: str) -> None:
    with pytest.raises(
        DBOSSerializationError, match=f"Cannot store a value of type {type_name} with the JSON serializer"
    ):
        JSON_ONLY.serialize(value)


def test_the_json_serializer_refuses_to_read_a_pickled_value() -> None:
    with pytest.raises(DBOSSerializationError, match="This value was pickled, but the JSON serializer is configured"):
        JSON_ONLY.deserialize(DEFAULT.serialize((1, 2)))


def test_the_json_serializer_stores_an_error_as_its_name_and_message() -> None:
    text = JSON_ONLY.serialize_error(ValueError("boom"))
    assert json.loads(text) == {"name": "ValueError", "message": "boom"}


def test_the_json_serializer_reads_an_error_back_as_a_PortableWorkflowError() -> None:
    back = JSON_ONLY.deserialize_error(JSON_ONLY.serialize_error(KeyError("k")))
    assert isinstance(back, PortableWorkflowError)
    assert (back.name, back.message) == ("KeyError", "'k'")
    assert str(back) == "KeyError: 'k'"


def test_the_json_serializer_stores_a_dbos_error_under_its_class_name() -> None:
    back = JSON_ONLY.deserialize_error(JSON_ONLY.serialize_error(error.DBOSNonExistentWorkflowError("wf-1")))
    assert isinstance(back, PortableWorkflowError)
    assert (back.name, back.message) == ("DBOSNonExistentWorkflowError", "DBOS Error 5: Workflow wf-1 does not exist")


def test_a_PortableWorkflowError_round_trips_unchanged_through_the_json_serializer() -> None:
    original = PortableWorkflowError("boom", "ValueError")
    back = JSON_ONLY.deserialize_error(JSON_ONLY.serialize_error(original))
    assert isinstance(back, PortableWorkflowError)
    assert (back.name, back.message) == ("ValueError", "boom")


def test_a_PortableWorkflowError_keeps_its_name_through_the_json_serializer() -> None:
    back = JSON_ONLY.deserialize_error(JSON_ONLY.serialize_error(PortableWorkflowError("boom", "ValueError")))
    assert isinstance(back, PortableWorkflowError)
    assert back.name == "ValueError"


def test_a_PortableWorkflowError_round_trips_through_pickle() -> None:
    original = PortableWorkflowError("boom", "ValueError", code=3, data={"k": 1})
    back = DEFAULT.deserialize_error(DEFAULT.serialize_error(original))
    assert isinstance(back, PortableWorkflowError)
    assert (back.message, back.name, back.code, back.data) == ("boom", "ValueError", 3, {"k": 1})


# Serializer names: the tag written on each row


def test_serializer_names() -> None:
    assert (DEFAULT.name(), JSON_ONLY.name(), Serializer().name()) == ("json+pickle", "json", "custom_serializer")


# describe(): for people, never unpickles


def test_describe_never_unpickles() -> None:
    text = DEFAULT.serialize(SideEffectOnUnpickle())
    UNPICKLED.clear()
    description = describe(text)
    assert UNPICKLED == []
    assert description.startswith("<pickled ")  # described from its opcodes, not run
    # The object is real: deserializing it does have the side effect.
    assert DEFAULT.deserialize(text) == "unpickled!"
    assert UNPICKLED == ["unpickled!"]


def test_describe_tells_the_approximate_size_of_a_pickled_value() -> None:
    text = DEFAULT.serialize(b"x" * 3000)
    size = int(describe(text).removeprefix("<pickled Python object, ").removesuffix(" bytes>"))
    assert abs(size - len(base64.b64decode(text.removeprefix(PICKLE_PREFIX)))) <= 2


def test_describe_tells_the_exact_size_of_a_pickled_value() -> None:
    text = DEFAULT.serialize(b"x")
    decoded = base64.b64decode(text.removeprefix(PICKLE_PREFIX))
    assert len(decoded) % 3 != 0  # the base64 text is padded
    assert describe(text) == f"<pickled Python object, {len(decoded)} bytes>"


def test_describe_pretty_prints_json() -> None:
    assert describe('{"a":[1,2],"b":"é"}') == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "é"\n}'


def test_describe_of_a_json_scalar_is_its_json_text() -> None:
    assert describe("42") == "42"
    assert describe('"text"') == '"text"'


def test_describe_of_nothing_is_empty() -> None:
    assert describe(None) == ""


def test_describe_shows_text_that_is_not_json_as_is() -> None:
    assert describe("not {json") == "not {json"


# for_tag(): the row's tag picks the reader


def test_for_tag_without_a_tag_uses_the_configured_serializer() -> None:
    assert for_tag(None, JSON_ONLY) is JSON_ONLY


def test_for_tag_of_the_configured_serializer_is_the_configured_serializer() -> None:
    assert for_tag("json+pickle", DEFAULT) is DEFAULT
    custom = Serializer()
    assert for_tag("custom_serializer", custom) is custom


def test_for_tag_json_plus_pickle_is_read_as_json_only_under_the_json_serializer() -> None:
    # SERIALIZER = "json" never unpickles, whatever a row's tag says (see docs/security.md).
    reader = for_tag("json+pickle", JSON_ONLY)
    assert reader is JSON_ONLY
    assert reader.deserialize(DEFAULT.serialize([1, 2])) == [1, 2]
    with pytest.raises(DBOSSerializationError, match="pickled"):
        reader.deserialize(DEFAULT.serialize((1, 2)))


def test_for_tag_json_reads_with_the_json_serializer() -> None:
    assert type(for_tag("json", DEFAULT)) is JSONSerializer


@pytest.mark.parametrize("tag", ["cbor", "custom_serializer", ""])
def test_for_tag_of_an_unknown_tag_raises_TypeError(tag: str) -> None:
    with pytest.raises(TypeError, match=f"^Serialization {tag} is not available$"):
        for_tag(tag, DEFAULT)


def test_describe_names_a_pickled_error_and_its_message_without_unpickling_it() -> None:
    assert describe(DEFAULT.serialize_error(RuntimeError("payment provider unavailable"))) == (
        "<pickled builtins.RuntimeError: 'payment provider unavailable'>"
    )
