"""The public API: what ``dbos_django`` exports and what the ``DBOS`` class offers.

To add a name: append it to the matching list below (keep the lists sorted).
"""

from __future__ import annotations

import inspect
import logging
import types
from typing import Any

import pytest
from django.utils.functional import classproperty

import dbos_django
from dbos_django import DBOS

EXPORTED = [
    "DBOS",
    "DBOSClient",
    "DBOSConfig",
    "DBOSConfiguredInstance",
    "Debouncer",
    "DebouncerClient",
    "EnqueueOptions",
    "Queue",
    "SendMessage",
    "Serializer",
    "SetEnqueueOptions",
    "SetWorkflowID",
    "SetWorkflowTimeout",
    "StepInfo",
    "StepOptions",
    "StepStatus",
    "WorkflowHandle",
    "WorkflowHandleAsync",
    "WorkflowStatus",
    "WorkflowStatusString",
    "error",
]

# DBOS.<name>(...) decorator factories.
DECORATORS = ["dbos_class", "scheduled", "step", "transaction", "workflow"]

# Plain classmethods without an ``_async`` twin.
CLASSMETHODS = ["destroy", "launch"]

# Classmethods that also exist as ``<name>_async`` coroutines taking the same parameters.
SYNC_AND_ASYNC = [
    "apply_schedules",
    "backfill_schedule",
    "cancel_workflow",
    "cancel_workflows",
    "close_stream",
    "create_schedule",
    "delete_schedule",
    "delete_workflow",
    "delete_workflows",
    "deprecate_patch",
    "enqueue_workflow",
    "fork_workflow",
    "get_all_events",
    "get_event",
    "get_result",
    "get_schedule",
    "get_workflow_status",
    "list_queued_workflows",
    "list_schedules",
    "list_workflow_steps",
    "list_workflows",
    "patch",
    "pause_schedule",
    "recv",
    "register_queue",
    "resume_schedule",
    "resume_workflow",
    "resume_workflows",
    "retrieve_workflow",
    "run_step",
    "send",
    "send_bulk",
    "set_event",
    "sleep",
    "start_workflow",
    "trigger_schedule",
    "wait_first",
    "write_stream",
]
ASYNC = [f"{name}_async" for name in SYNC_AND_ASYNC]

# A generator and its async-generator twin (same parameters).
STREAMS = ["read_stream"]

# Read on the class: DBOS.<name>.
PROPERTIES = ["application_version", "executor_id", "logger", "step_id", "step_status", "workflow_id"]

ALL_LISTS = [EXPORTED, DECORATORS, CLASSMETHODS, SYNC_AND_ASYNC, STREAMS, PROPERTIES]


def test_the_expected_lists_are_sorted() -> None:
    for names in ALL_LISTS:
        assert names == sorted(names)


# The package


def test_all_is_exactly_the_exported_names() -> None:
    assert dbos_django.__all__ == EXPORTED


@pytest.mark.parametrize("name", EXPORTED)
def test_an_exported_name_can_be_imported_from_the_package(name: str) -> None:
    module = __import__("dbos_django", fromlist=[name])  # what `from dbos_django import <name>` does
    assert getattr(module, name) is not None


def test_star_import_gives_exactly_the_exported_names() -> None:
    namespace: dict[str, Any] = {}
    exec("from dbos_django import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(EXPORTED)


def test_error_is_the_error_module() -> None:
    from dbos_django import error

    assert isinstance(error, types.ModuleType)
    assert error.__name__ == "dbos_django.error"


def test_an_unknown_name_raises_AttributeError() -> None:
    with pytest.raises(AttributeError, match="module 'dbos_django' has no attribute 'Nope'"):
        dbos_django.Nope  # noqa: B018


def test_DBOS_is_a_class() -> None:
    assert inspect.isclass(DBOS)


# The DBOS class


@pytest.mark.parametrize("name", DECORATORS)
def test_a_decorator_factory_is_a_static_method(name: str) -> None:
    assert isinstance(inspect.getattr_static(DBOS, name), staticmethod)
    assert callable(getattr(DBOS, name))


@pytest.mark.parametrize("name", CLASSMETHODS + SYNC_AND_ASYNC)
def test_a_sync_method_is_a_classmethod_that_is_not_a_coroutine(name: str) -> None:
    assert isinstance(inspect.getattr_static(DBOS, name), classmethod)
    assert not inspect.iscoroutinefunction(getattr(DBOS, name))


@pytest.mark.parametrize("name", ASYNC)
def test_an_async_method_is_a_coroutine_classmethod(name: str) -> None:
    assert isinstance(inspect.getattr_static(DBOS, name), classmethod)
    assert inspect.iscoroutinefunction(getattr(DBOS, name))


def _parameters(name: str) -> list[tuple[str, Any, Any]]:
    signature = inspect.signature(getattr(DBOS, name))
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize("name", STREAMS)
def test_a_stream_reader_has_an_async_generator_twin(name: str) -> None:
    assert isinstance(inspect.getattr_static(DBOS, f"{name}_async"), classmethod)
    assert _parameters(f"{name}_async") == _parameters(name)


@pytest.mark.parametrize("name", SYNC_AND_ASYNC + STREAMS)
def test_an_async_twin_takes_the_same_parameters(name: str) -> None:
    assert _parameters(f"{name}_async") == _parameters(name)


@pytest.mark.parametrize("name", PROPERTIES)
def test_a_property_is_read_on_the_class(name: str) -> None:
    assert isinstance(inspect.getattr_static(DBOS, name), classproperty)


@pytest.mark.parametrize("name", ["step_id", "step_status", "workflow_id"])
def test_a_context_property_is_None_outside_a_workflow(name: str) -> None:
    assert getattr(DBOS, name) is None


def test_logger_is_the_dbos_django_logger() -> None:
    assert DBOS.logger is logging.getLogger("dbos_django")


def test_executor_id_and_application_version_are_strings_before_launch() -> None:
    assert DBOS.executor_id == "local"
    assert isinstance(DBOS.application_version, str) and DBOS.application_version


def test_no_public_member_is_left_out_of_the_lists() -> None:
    listed = set(DECORATORS + CLASSMETHODS + SYNC_AND_ASYNC + ASYNC + PROPERTIES + STREAMS)
    listed |= {f"{name}_async" for name in STREAMS}
    public = {name for name in vars(DBOS) if not name.startswith("_")}
    assert public == listed


# Docstrings: the API reference (docs/reference.md) is generated from them, so each public name needs its own.


def _public_objects() -> dict[str, Any]:
    """Every name the API reference documents, by dotted path."""
    from dbos_django import error, tasks, testing, views

    objects = {f"dbos_django.{name}": getattr(dbos_django, name) for name in EXPORTED}
    objects |= {f"dbos_django.error.{name}": value for name, value in vars(error).items()
                if inspect.isclass(value) and value.__module__ == error.__name__ and not name.startswith("_")}  # fmt: skip
    objects |= {f"dbos_django.testing.{name}": getattr(testing, name) for name in testing.__all__}
    objects |= {f"dbos_django.tasks.{name}": getattr(tasks, name) for name in ("DBOSTaskBackend", "workflow_of")}
    objects |= {f"dbos_django.views.{name}": getattr(views, name)
                for name in ("workflow_stream_view", "async_workflow_stream_view")}  # fmt: skip
    return objects


def _own_members(cls: type) -> dict[str, Any]:
    """The public methods and properties ``cls`` defines itself, as the functions that carry their docstrings."""
    members = {}
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            members[name] = value.__func__
        elif isinstance(value, (property, classproperty)):
            members[name] = value.fget
        elif inspect.isfunction(value):
            members[name] = value
    return members


def _docstring(obj: Any) -> str:
    """The object's own docstring: not one inherited from a base class, nor the signature a dataclass makes up."""
    import dataclasses

    doc = (vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)) or ""
    if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        return ""
    return doc.strip()


PUBLIC_OBJECTS = _public_objects()
PUBLIC_MEMBERS = {f"{path}.{name}": member for path, obj in PUBLIC_OBJECTS.items() if inspect.isclass(obj)
                  for name, member in _own_members(obj).items()}  # fmt: skip


@pytest.mark.parametrize("path", sorted(PUBLIC_OBJECTS))
def test_a_public_name_has_a_docstring(path: str) -> None:
    assert _docstring(PUBLIC_OBJECTS[path]), f"{path} has no docstring: the API reference would show it bare"


@pytest.mark.parametrize("path", sorted(PUBLIC_MEMBERS))
def test_a_public_method_or_property_has_a_docstring(path: str) -> None:
    assert _docstring(PUBLIC_MEMBERS[path]), f"{path} has no docstring: the API reference would show it bare"


def test_every_public_member_of_DBOS_is_checked_for_a_docstring() -> None:
    checked = {path.rpartition(".")[2] for path in PUBLIC_MEMBERS if path.startswith("dbos_django.DBOS.")}
    assert checked == {name for name in vars(DBOS) if not name.startswith("_")}


def test_the_reference_repeats_the_docstring_of_each_DBOS_classproperty() -> None:
    # Autodoc cannot read the getter of Django's classproperty, so docs/reference.md spells each one out.
    from tests.conftest import ROOT

    reference = " ".join((ROOT / "docs" / "reference.md").read_text().split())
    for name in PROPERTIES:
        doc = " ".join(inspect.getattr_static(DBOS, name).fget.__doc__.split())
        assert f".. py:property:: {name} " in reference and doc in reference, f"docs/reference.md: DBOS.{name}"
