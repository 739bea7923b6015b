"""Workflows that are static, class or instance methods; recovery binds the receiver again."""

from __future__ import annotations

import pytest

from dbos_django import DBOS, DBOSConfiguredInstance, Queue, SetWorkflowID
from dbos_django.error import DBOSException
from dbos_django.models import Workflow

methods_queue = Queue("test-methods", polling_interval_sec=0.05)


@DBOS.dbos_class()
class Greeter(DBOSConfiguredInstance):
    def __init__(self, config_name: str, greeting: str) -> None:
        self.greeting = greeting
        super().__init__(config_name)

    @DBOS.workflow()
    def greet(self, name: str) -> str:
        return self.shout(f"{self.greeting}, {name}")

    @DBOS.step()
    def shout(self, text: str) -> str:
        return text.upper()

    @classmethod
    @DBOS.workflow()
    def describe(cls, suffix: str) -> str:
        return cls.__name__ + suffix

    @staticmethod
    @DBOS.workflow()
    def add(a: int, b: int) -> int:
        return a + b


hello = Greeter("hello-config", "hello")
bonjour = Greeter("bonjour-config", "bonjour")


class Plain:
    @DBOS.workflow()
    def method(self) -> None: ...


def test_an_instance_workflow_records_its_class_and_config_not_self(dbos):
    with SetWorkflowID("m-1"):
        assert hello.greet("ada") == "HELLO, ADA"
    row = Workflow.objects.get(workflow_id="m-1")
    assert (row.class_name, row.config_name) == ("Greeter", "hello-config")
    assert DBOS.get_workflow_status("m-1").input == {"args": ("ada",), "kwargs": {}}


def test_a_queued_instance_workflow_runs_on_the_instance_named_by_its_config(dbos):
    assert methods_queue.enqueue(bonjour.greet, "bob").get_result() == "BONJOUR, BOB"


def test_a_class_method_workflow_records_its_class(dbos):
    with SetWorkflowID("m-2"):
        assert Greeter.describe("!") == "Greeter!"
    row = Workflow.objects.get(workflow_id="m-2")
    assert (row.class_name, row.config_name) == ("Greeter", None)
    assert methods_queue.enqueue(Greeter.describe, "?").get_result() == "Greeter?"


def test_a_static_method_workflow_is_a_plain_workflow(dbos):
    with SetWorkflowID("m-3"):
        assert Greeter.add(2, 3) == 5
    assert Workflow.objects.get(workflow_id="m-3").class_name is None


def test_recovery_finds_the_instance_by_its_config_name(dbos):
    DBOS.destroy()
    from dbos_django.serialization import DefaultSerializer

    Workflow.objects.create(
        workflow_id="m-4", status="PENDING", name=Greeter.greet.__qualname__, class_name="Greeter",
        config_name="bonjour-config", inputs=DefaultSerializer().serialize({"args": ["eve"], "kwargs": {}}),
        serialization="json+pickle", executor_id="local", application_version=DBOS.application_version,
        created_at=1, updated_at=1, recovery_attempts=1,
    )  # fmt: skip
    DBOS.launch()
    assert DBOS.retrieve_workflow("m-4").get_result() == "BONJOUR, EVE"


def test_a_method_of_an_unregistered_instance_is_refused(dbos):
    with pytest.raises(DBOSException, match="Function target appears to be a class instance"):
        Plain().method()
