"""The Server-Sent Events view: a workflow's stream (and events) to a browser, in order, until it closes."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from django.test import AsyncClient

from dbos_django import DBOS, SetWorkflowID

pytestmark = pytest.mark.urls("tests.urls")


@DBOS.workflow()
def reporting(steps: int) -> str:
    for i in range(steps):
        DBOS.set_event("stage", i)
        DBOS.write_stream("progress", {"done": i + 1, "of": steps})
        DBOS.recv("tick", 0.05)  # a little time between values
    DBOS.close_stream("progress")
    return "finished"


def frames(body: str) -> list[str]:
    return [f for f in body.split("\n\n") if f and not f.startswith(":")]


def test_the_view_streams_values_in_order_and_ends_when_the_stream_closes(dbos, client):
    with SetWorkflowID("sse-1"):
        DBOS.start_workflow(reporting, 3)
    response = client.get("/progress/sse-1")
    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    values = [f for f in frames(body) if f.startswith("id:")]
    assert values == [f'id: {i}\ndata: {{"done":{i + 1},"of":3}}' for i in range(3)]
    assert frames(body)[-1] == 'event: end\ndata: {"offset": 3}'
    assert 'event: events\ndata: {"stage": 2}' in frames(body)


def test_reconnecting_with_last_event_id_resumes_after_it(dbos, client):
    with SetWorkflowID("sse-2"):
        reporting(3)
    body = b"".join(client.get("/progress/sse-2", headers={"Last-Event-ID": "1"}).streaming_content).decode()
    assert [f.split("\n")[0] for f in frames(body) if f.startswith("id:")] == ["id: 2"]


def test_the_access_check_can_refuse(dbos, client):
    with SetWorkflowID("sse-3"):
        reporting(1)
    assert client.get("/secret-progress/sse-3").status_code == 403
    assert client.get("/staff-progress/sse-3").status_code == 403  # the default: staff only


def test_an_unknown_workflow_is_404(dbos, client):
    assert client.get("/progress/no-such-workflow").status_code == 404


def test_the_async_view_streams_the_same(dbos):
    with SetWorkflowID("sse-4"):
        DBOS.start_workflow(reporting, 2)

    async def main() -> str:
        response = await AsyncClient().get("/async-progress/sse-4")
        return "".join([chunk.decode() async for chunk in response.streaming_content])

    body = asyncio.run(main())
    assert [f.split("\n")[0] for f in frames(body) if f.startswith("id:")] == ["id: 0", "id: 1"]
    assert frames(body)[-1].startswith("event: end")


def test_a_real_http_request_to_a_running_server(dbos, live_server):
    with SetWorkflowID("sse-5"):
        DBOS.start_workflow(reporting, 3)
    with urllib.request.urlopen(f"{live_server.url}/progress/sse-5", timeout=30) as response:
        body = response.read().decode()
    assert [f.split("\n")[0] for f in frames(body) if f.startswith("id:")] == ["id: 0", "id: 1", "id: 2"]
    assert frames(body)[-1].startswith("event: end")
