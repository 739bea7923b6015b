"""DBOSClient: enqueue by name, message, read and control workflows without a runtime."""

from __future__ import annotations

import asyncio

import pytest

from dbos_django import DBOS, DBOSClient, Queue, SetWorkflowID
from dbos_django.conf import DBOSCompatibilityWarning
from dbos_django.error import DBOSNonExistentWorkflowError
from dbos_django.models import Workflow

client_queue = Queue("test-client", polling_interval_sec=0.05)


@DBOS.workflow()
def greet(name: str, punctuation: str = "!") -> str:
    DBOS.set_event("greeted", name)
    DBOS.write_stream("letters", name[0])
    DBOS.close_stream("letters")
    return f"hello {name}{punctuation}"


@DBOS.workflow()
def waits_for_message() -> object:
    return DBOS.recv("topic", 10)


@pytest.fixture
def client() -> DBOSClient:
    return DBOSClient()


def test_the_client_enqueues_by_name_without_a_runtime(transactional_db, client):
    handle = client.enqueue({"workflow_name": "greet", "queue_name": "test-client", "workflow_id": "cl-1"},
                            "ada", punctuation="?")  # fmt: skip
    row = Workflow.objects.get(workflow_id="cl-1")
    assert (handle.workflow_id, row.status, row.name, row.queue_name) == ("cl-1", "ENQUEUED", "greet", "test-client")
    assert row.application_version is None  # client enqueues are not pinned to a version


def test_a_worker_runs_what_the_client_enqueued_and_the_client_reads_it(dbos, client):
    handle = client.enqueue({"workflow_name": "greet", "queue_name": "test-client", "workflow_id": "cl-2"}, "bob")
    assert handle.get_result() == "hello bob!"
    assert client.get_event("cl-2", "greeted", 1) == "bob"
    assert list(client.read_stream("cl-2", "letters")) == ["b"]
    assert [w.workflow_id for w in client.list_workflows(workflow_ids=["cl-2"])] == ["cl-2"]
    assert [s["function_name"] for s in client.list_workflow_steps("cl-2")][0] == "DBOS.setEvent"
    assert client.retrieve_workflow("cl-2").get_result() == "hello bob!"


def test_the_client_sends_to_a_running_workflow(dbos, client):
    with SetWorkflowID("cl-3"):
        handle = DBOS.start_workflow(waits_for_message)
    client.send("cl-3", {"n": 1}, "topic")
    assert handle.get_result() == {"n": 1}


def test_the_client_controls_workflows(dbos, client):
    client.enqueue({"workflow_name": "greet", "queue_name": "test-client", "workflow_id": "cl-4"}, "cy").get_result()
    forked = client.fork_workflow("cl-4", 1)
    assert forked.get_result() == "hello cy!"
    client.cancel_workflow(forked.workflow_id)
    client.resume_workflow(forked.workflow_id)
    client.delete_workflow("cl-4")
    with pytest.raises(DBOSNonExistentWorkflowError):
        client.retrieve_workflow("cl-4")


def test_enqueue_options_reach_the_row(transactional_db, client):
    client.enqueue({"workflow_name": "greet", "queue_name": "test-client", "workflow_id": "cl-5", "priority": 3,
                    "deduplication_id": "d", "app_version": "v9", "workflow_timeout": 30, "delay_seconds": 60}, "x")  # fmt: skip
    row = Workflow.objects.get(workflow_id="cl-5")
    assert (row.priority, row.deduplication_id, row.application_version, row.workflow_timeout_ms, row.status) == (
        3, "d", "v9", 30_000, "DELAYED")


def test_database_urls_are_ignored_with_a_warning():
    with pytest.warns(DBOSCompatibilityWarning, match="uses Django's database"):
        DBOSClient(system_database_url="postgresql://elsewhere/db")


def test_the_async_twins(dbos, client):
    async def main() -> tuple[object, ...]:
        handle = await client.enqueue_async({"workflow_name": "greet", "queue_name": "test-client",
                                             "workflow_id": "cl-6"}, "dee")  # fmt: skip
        result = await handle.get_result()
        event = await client.get_event_async("cl-6", "greeted", 1)
        letters = [v async for v in client.read_stream_async("cl-6", "letters")]
        listed = await client.list_workflows_async(workflow_ids=["cl-6"])
        return result, event, letters, [w.status for w in listed]

    assert asyncio.run(main()) == ("hello dee!", "dee", ["d"], ["SUCCESS"])
