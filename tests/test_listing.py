"""list_workflows and list_queued_workflows: every filter DBOS has."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from dbos_django import DBOS
from dbos_django.models import Workflow


def row(workflow_id: str, **fields: object) -> Workflow:
    values: dict[str, object] = {"status": "SUCCESS", "name": "wf", "created_at": 1000, "updated_at": 1000,
                                 "application_version": "v1", "executor_id": "e1", "inputs": '{"args":[1],"kwargs":{}}',
                                 "output": '"out"', "serialization": "json+pickle"}  # fmt: skip
    values.update(fields)
    return Workflow.objects.create(workflow_id=workflow_id, **values)


@pytest.fixture
def rows(transactional_db):
    row("a", created_at=1000, name="alpha", completed_at=1500, started_at=1100)
    row("b", created_at=2000, name="beta", status="ERROR", application_version="v2", executor_id="e2",
        authenticated_user="ada", completed_at=2500, started_at=2100)  # fmt: skip
    row("c", created_at=3000, name="alpha", status="ENQUEUED", queue_name="q1", output=None)
    row("c-child", created_at=4000, parent_workflow_id="c", status="PENDING", queue_name="q2", output=None)
    row("d", created_at=5000, forked_from="a", status="DELAYED", queue_name="q1", output=None)


def ids(**filters: object) -> list[str]:
    return [w.workflow_id for w in DBOS.list_workflows(**filters)]


def test_without_filters_every_workflow_oldest_first(rows):
    assert ids() == ["a", "b", "c", "c-child", "d"]


def test_sort_desc_lists_newest_first(rows):
    assert ids(sort_desc=True) == ["d", "c-child", "c", "b", "a"]


def test_limit_and_offset_page_through(rows):
    assert ids(limit=2) == ["a", "b"]
    assert ids(limit=2, offset=2) == ["c", "c-child"]
    assert ids(offset=4) == ["d"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"workflow_ids": ["b", "d"]}, ["b", "d"]),
        ({"status": "ERROR"}, ["b"]),
        ({"status": ["ENQUEUED", "DELAYED"]}, ["c", "d"]),
        ({"name": "alpha"}, ["a", "c"]),
        ({"app_version": "v2"}, ["b"]),
        ({"executor_id": "e2"}, ["b"]),
        ({"user": "ada"}, ["b"]),
        ({"queue_name": "q1"}, ["c", "d"]),
        ({"forked_from": "a"}, ["d"]),
        ({"parent_workflow_id": "c"}, ["c-child"]),
        ({"workflow_id_prefix": "c"}, ["c", "c-child"]),
        ({"was_forked_from": True}, ["a"]),
        ({"has_parent": True}, ["c-child"]),
        ({"has_parent": False}, ["a", "b", "c", "d"]),
        ({"start_time": 2000, "end_time": 4000}, ["b", "c", "c-child"]),
        ({"completed_after": 2000}, ["b"]),
        ({"completed_before": 2000}, ["a"]),
        ({"dequeued_after": 2000}, ["b"]),
        ({"dequeued_before": 2000}, ["a"]),
        ({"name": "alpha", "status": "SUCCESS"}, ["a"]),
    ],
    ids=lambda v: str(v),
)
def test_each_filter_selects_its_workflows(rows, filters, expected):
    assert ids(**filters) == expected


def test_time_filters_take_iso_8601_strings(rows):
    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()

    assert ids(start_time=iso(2000), end_time=iso(3000)) == ["b", "c"]


def test_load_input_and_load_output_false_leave_them_out(rows):
    [status] = DBOS.list_workflows(workflow_ids=["a"], load_input=False, load_output=False)
    assert (status.input, status.output) == (None, None)
    [status] = DBOS.list_workflows(workflow_ids=["a"])
    assert (status.input, status.output) == ({"args": (1,), "kwargs": {}}, "out")


def test_list_queued_workflows_shows_only_waiting_or_running_queued_work(rows):
    assert [w.workflow_id for w in DBOS.list_queued_workflows()] == ["c", "c-child", "d"]
    assert [w.workflow_id for w in DBOS.list_queued_workflows(queue_name="q1", status="DELAYED")] == ["d"]


def test_an_unknown_filter_is_a_type_error(rows):
    with pytest.raises(TypeError):
        DBOS.list_workflows(colour="red")


def test_the_async_twins_list_the_same(rows):
    async def main() -> tuple[list[str], list[str]]:
        listed = await DBOS.list_workflows_async(name="alpha")
        queued = await DBOS.list_queued_workflows_async(queue_name="q2")
        return [w.workflow_id for w in listed], [w.workflow_id for w in queued]

    assert asyncio.run(main()) == (["a", "c"], ["c-child"])
