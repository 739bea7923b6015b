"""Forged requests: every admin action and page that changes something, and the stream views, refuse them.

For each way in that changes state (a workflow action on its page or on the list, a schedule action, the
schedule and queue forms, the workers page), a request without the right to make it is refused and changes
no row: a GET, a POST without a CSRF token, an anonymous or non-staff user, a staff user without the
permission. The stream views serve only GET, ask the access check before saying whether a workflow exists,
and refuse a forged Last-Event-ID. Stored values are never unpickled on the way out.
"""

from __future__ import annotations

import asyncio
import base64
import pickle
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import AsyncClient, Client
from django.urls import reverse

from dbos_django import DBOS, testing
from dbos_django.engine import clock
from dbos_django.error import DBOSSerializationError
from dbos_django.models import DatabaseQueue, Executor, Schedule, StreamEntry, Workflow
from tests.db_state import nothing_written

CHANGELIST = "/admin/dbos_django/workflow/"
PERMISSIONS = {"cancel": "cancel_workflow", "resume": "resume_workflow", "restart": "restart_workflow",
               "fork": "fork_workflow", "current_version": "move_workflow", "delete": "delete_workflow"}  # fmt: skip
VIEWS = ("view_workflow", "view_schedule", "view_databasequeue", "view_executor")


def url(name: str, *args: str) -> str:
    return reverse(f"admin:dbos_django_{name}", args=args)


def ticked(scheduled_time: object, context: object) -> None:
    """Named by the schedule rows below (never run: no runtime here)."""


@pytest.fixture
def rows(db: None) -> None:
    """A running workflow, a finished one, a queue stored in the database, a worker and a schedule."""
    now = clock.now_ms()
    for workflow_id, status in (("wf-run", "PENDING"), ("wf-done", "SUCCESS")):
        Workflow.objects.create(workflow_id=workflow_id, status=status, name="orders.checkout",
                                inputs='{"args":[1],"kwargs":{}}', application_version="v0",
                                application_name="tests", created_at=now, updated_at=now)  # fmt: skip
    DatabaseQueue.objects.create(name="stored", concurrency=2, created_at=now, updated_at=now)
    Executor.objects.create(executor_id="w-1", hostname="h", pid=1, started_at=now, heartbeat_at=now,
                            application_version="v0")  # fmt: skip
    Schedule.objects.create(schedule_id="s-1", schedule_name="nightly", workflow_name="tests.test_security.ticked",
                            schedule="0 3 * * *", created_at=now)  # fmt: skip


def user(name: str, *codenames: str, staff: bool = True, superuser: bool = False) -> User:
    person = User.objects.create_user(name, password="pw", is_staff=staff, is_superuser=superuser)
    perms = Permission.objects.filter(content_type__app_label="dbos_django", codename__in=codenames)
    assert perms.count() == len(set(codenames)), codenames
    person.user_permissions.add(*perms)
    return person


def client_of(person: User | None, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if person is not None:
        client.force_login(person)
    return client


def list_action(action: str, ids: list[str]) -> dict[str, Any]:
    return {"action": action, "index": 0, "_selected_action": ids, "confirm": "yes"}


# Every POST that changes state: (what, URL, form data)
def changing_posts() -> list[tuple[str, str, dict[str, Any]]]:
    posts = [(f"workflow {name}", url(f"workflow_{name}", "wf-run"), {"confirm": "yes", "start_step": 1})
             for name in PERMISSIONS]  # fmt: skip
    posts += [
        ("workflow list action", CHANGELIST, list_action("cancel_selected", ["wf-run"])),
        ("schedule pause", url("schedule_pause", "s-1"), {"confirm": "yes"}),
        ("schedule trigger", url("schedule_trigger", "s-1"), {"confirm": "yes"}),
        ("schedule delete", url("schedule_delete", "s-1"), {"confirm": "yes"}),
        ("schedule list action", url("schedule_changelist"), list_action("pause_selected", ["s-1"])),
        ("schedule add", url("schedule_add"), {"schedule_name": "forged", "workflow_name": "tests.test_security.ticked",
                                               "schedule": "* * * * *", "context": "null"}),
        ("queue change", url("databasequeue_change", "stored"), {"name": "stored", "concurrency": 99,
                                                                  "polling_interval_sec": 1}),
        ("queue add", url("databasequeue_add"), {"name": "forged", "concurrency": 1, "polling_interval_sec": 1}),
        ("worker delete", url("executor_delete", "w-1"), {"post": "yes"}),
    ]  # fmt: skip
    return posts


POSTS = (*(f"workflow {name}" for name in PERMISSIONS), "workflow list action", "schedule pause", "schedule trigger",
         "schedule delete", "schedule list action", "schedule add", "queue change", "queue add", "worker delete")


def post_of(name: str) -> tuple[str, dict[str, Any]]:
    """The URL and form data of a POST of ``POSTS`` (built at run time: the URLs need the URLconf)."""
    return {what: (target, data) for what, target, data in changing_posts()}[name]


# The admin


@pytest.mark.parametrize("name", POSTS)
def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(rows: None, name: str) -> None:
    target, data = post_of(name)
    admin = client_of(user("root", superuser=True), csrf=True)
    with nothing_written():
        assert admin.post(target, data).status_code == 403


def test_a_post_with_the_csrf_token_of_the_page_is_accepted(rows: None) -> None:
    admin = client_of(user("root", superuser=True), csrf=True)
    page = admin.get(url("workflow_cancel", "wf-run"))
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    token = admin.cookies["csrftoken"].value
    assert admin.post(url("workflow_cancel", "wf-run"), {"confirm": "yes", "csrfmiddlewaretoken": token}).status_code == 302
    assert Workflow.objects.get(pk="wf-run").status == "CANCELLED"


@pytest.mark.parametrize("name", POSTS)
def test_an_anonymous_post_is_sent_to_the_login_page_and_changes_nothing(rows: None, name: str) -> None:
    target, data = post_of(name)
    with nothing_written():
        response = client_of(None).post(target, data)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("name", POSTS)
def test_a_non_staff_user_holding_every_permission_is_sent_to_the_login_page(rows: None, name: str) -> None:
    target, data = post_of(name)
    outsider = client_of(user("outsider", staff=False, superuser=True))
    with nothing_written():
        response = outsider.post(target, data)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("name", POSTS)
def test_a_staff_user_who_may_only_view_gets_a_403_and_changes_nothing(rows: None, name: str) -> None:
    target, data = post_of(name)
    viewer = client_of(user("viewer", *VIEWS))
    with nothing_written():
        assert viewer.post(target, data).status_code == 403


@pytest.mark.parametrize("name", ["cancel", "resume", "restart", "fork", "current_version", "delete"])
def test_a_get_of_an_action_only_asks_for_confirmation(rows: None, name: str) -> None:
    admin = client_of(user("root", superuser=True))
    with nothing_written():
        response = admin.get(url(f"workflow_{name}", "wf-run"), {"confirm": "yes", "start_step": 1})
    assert response.status_code == 200 and 'name="confirm"' in response.content.decode()


def test_a_get_of_a_list_with_action_parameters_changes_nothing(rows: None) -> None:
    admin = client_of(user("root", superuser=True))
    with nothing_written():
        assert admin.get(CHANGELIST, list_action("delete_selected", ["wf-run", "wf-done"])).status_code in (200, 302)
        assert admin.get(url("schedule_changelist"), list_action("pause_selected", ["s-1"])).status_code in (200, 302)
        assert admin.get(url("schedule_pause", "s-1"), {"confirm": "yes"}).status_code == 200


@pytest.mark.parametrize(("name", "codename"), list(PERMISSIONS.items()))
def test_each_workflow_action_needs_its_own_permission(rows: None, name: str, codename: str) -> None:
    others = [p for p in PERMISSIONS.values() if p != codename]
    without = client_of(user("without", "view_workflow", *others))
    with nothing_written():
        assert without.post(url(f"workflow_{name}", "wf-run"), {"confirm": "yes", "start_step": 1}).status_code == 403
    holder = client_of(user("holder", "view_workflow", codename))
    before = list(Workflow.objects.order_by("pk").values_list("pk", "status", "application_version"))
    assert holder.post(url(f"workflow_{name}", "wf-run"), {"confirm": "yes", "start_step": 1}).status_code == 302
    assert list(Workflow.objects.order_by("pk").values_list("pk", "status", "application_version")) != before


def test_an_action_permission_without_the_view_permission_is_not_enough(rows: None) -> None:
    blind = client_of(user("blind", "cancel_workflow"))
    with nothing_written():
        assert blind.post(url("workflow_cancel", "wf-run"), {"confirm": "yes"}).status_code == 403


def test_without_the_permission_an_unknown_workflow_or_schedule_is_a_403_too(rows: None) -> None:
    viewer = client_of(user("viewer", *VIEWS))
    for known, unknown in ((url("workflow_cancel", "wf-run"), url("workflow_cancel", "no-such-workflow")),
                           (url("schedule_pause", "s-1"), url("schedule_pause", "no-such-schedule"))):  # fmt: skip
        assert viewer.get(known).status_code == viewer.get(unknown).status_code == 403


def test_the_workers_page_is_read_only_even_for_a_superuser(rows: None) -> None:
    admin = client_of(user("root", superuser=True))
    with nothing_written():
        assert admin.post(url("executor_delete", "w-1"), {"post": "yes"}).status_code == 403
        assert admin.post(url("executor_change", "w-1"), {"hostname": "forged"}).status_code == 403
        assert admin.post(url("executor_add"), {"executor_id": "forged"}).status_code == 403


def test_a_folder_of_the_time_zone_database_is_refused_by_the_schedule_form(rows: None) -> None:
    admin = client_of(user("root", superuser=True))
    with nothing_written():
        response = admin.post(url("schedule_add"), {"schedule_name": "tz", "workflow_name": "x", "schedule": "* * * * *",
                                                    "cron_timezone": "America", "context": "null"})  # fmt: skip
    assert response.status_code == 200 and "cron_timezone" in response.context["adminform"].form.errors


# Stored values are described, never unpickled


class Trap:
    """A pickle that creates a file if it is ever loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def trap(marker: Path) -> str:
    return "pickle:" + base64.b64encode(pickle.dumps(Trap(marker))).decode()


def test_the_schedules_command_never_unpickles_a_schedule_context(rows: None, tmp_path: Path) -> None:
    Schedule.objects.filter(pk="s-1").update(context=trap(tmp_path / "unpickled"))
    call_command("dbos_schedules", "list")
    assert not (tmp_path / "unpickled").exists()


@DBOS.workflow()
def forged_target(value: object) -> object:
    return value


@pytest.fixture
def json_only(db: None, settings: Any) -> Any:
    settings.DBOS = {**settings.DBOS, "SERIALIZER": "json"}
    runtime = testing.launch(clock=testing.FakeClock())
    yield runtime
    testing.destroy()


def test_under_the_json_serializer_a_row_claiming_to_be_pickled_is_never_unpickled(json_only: Any,
                                                                                    tmp_path: Path) -> None:  # fmt: skip
    now = clock.now_ms()
    Workflow.objects.create(workflow_id="forged-input", status="ENQUEUED", name=forged_target.__qualname__,
                            queue_name="_dbos_internal_queue", serialization="json+pickle",
                            inputs=trap(tmp_path / "from-inputs"), created_at=now, updated_at=now)  # fmt: skip
    Workflow.objects.create(workflow_id="forged-output", status="SUCCESS", name="report", serialization="json+pickle",
                            output=trap(tmp_path / "from-output"), created_at=now, updated_at=now)  # fmt: skip
    json_only.drain()
    status = DBOS.get_workflow_status("forged-input")
    assert status is not None and status.status == "ERROR" and "pickled" in str(status.error)
    with pytest.raises(DBOSSerializationError, match="pickled"):
        DBOS.get_result("forged-output")
    DBOS.list_workflows()
    assert list(tmp_path.iterdir()) == []


# The stream views


def stream_of(workflow_id: str, *values: str, status: str = "SUCCESS") -> None:
    now = clock.now_ms()
    Workflow.objects.create(workflow_id=workflow_id, status=status, name="report", application_name="tests",
                            created_at=now, updated_at=now)  # fmt: skip
    StreamEntry.objects.bulk_create(StreamEntry(workflow_id=workflow_id, key="progress", offset=i, value=v)
                                    for i, v in enumerate(values))  # fmt: skip


def body(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.mark.urls("tests.security_urls")
def test_an_access_check_given_someone_elses_workflow_id_refuses_it(db: None) -> None:
    stream_of("alice-1", '"a"')
    stream_of("bob-1", '"b"')
    alice = client_of(user("alice", staff=False))
    assert alice.get("/mine/alice-1").status_code == 200
    assert alice.get("/mine/bob-1").status_code == 403
    assert alice.get("/mine/bob-does-not-exist").status_code == 403  # refused before looking: no existence oracle
    assert alice.get("/mine/alice-does-not-exist").status_code == 404


@pytest.mark.urls("tests.security_urls")
def test_the_default_access_check_refuses_anonymous_and_non_staff_users(db: None) -> None:
    stream_of("report-1", '"x"')
    assert client_of(None).get("/staff/report-1").status_code == 403
    assert client_of(user("member", staff=False)).get("/staff/report-1").status_code == 403
    assert client_of(user("operator")).get("/staff/report-1").status_code == 200


@pytest.mark.urls("tests.security_urls")
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_stream_view_serves_only_get(db: None, method: str) -> None:
    stream_of("report-2", '"x"')
    with nothing_written():
        assert getattr(client_of(None), method)("/open/report-2").status_code == 405


@pytest.mark.urls("tests.security_urls")
@pytest.mark.parametrize("last_id", ["abc", "--5", "-7", "1e3", "²", "9" * 30, "0x10"])
def test_a_forged_last_event_id_is_a_400(db: None, last_id: str) -> None:
    stream_of("report-3", '"x"')
    assert client_of(None).get("/open/report-3", headers={"Last-Event-ID": last_id}).status_code == 400


@pytest.mark.urls("tests.security_urls")
def test_the_async_stream_view_refuses_a_post_and_a_forged_last_event_id() -> None:
    async def requests() -> tuple[int, int]:
        client = AsyncClient()
        posted = await client.post("/async-open/any")
        forged = await client.get("/async-open/any", headers={"Last-Event-ID": "not-a-number"})
        return posted.status_code, forged.status_code

    assert asyncio.run(requests()) == (405, 400)


@pytest.mark.urls("tests.security_urls")
def test_a_pickled_stream_value_is_described_never_unpickled(db: None, tmp_path: Path) -> None:
    stream_of("report-4", trap(tmp_path / "unpickled"), '"__DBOS_STREAM_CLOSED__"')
    shown = body(client_of(None).get("/open/report-4"))
    assert "<pickled" in shown and not (tmp_path / "unpickled").exists()
