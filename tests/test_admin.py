"""The admin: every page with data in every state, each action through the engine, each permission."""

from __future__ import annotations

import base64
import pickle
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dbos_django import DBOS, Queue, SetEnqueueOptions, SetWorkflowID
from dbos_django.admin.paging import EstimatedCountPaginator
from dbos_django.engine import clock
from dbos_django.models import (
    DatabaseQueue,
    Executor,
    Message,
    Schedule,
    StepOutput,
    StreamEntry,
    Workflow,
    WorkflowEvent,
)
from tests.app.models import SideEffect
from tests.conftest import wait_for

admin_queue = Queue("admin-tests", concurrency=2, polling_interval_sec=0.05)
HOUR = 3_600_000
CHANGELIST = "/admin/dbos_django/workflow/"


@DBOS.step()
def record(key: str) -> str:
    SideEffect.objects.create(key=key)
    return key


@DBOS.step()
def needs_fix(tag: str) -> str:
    if not SideEffect.objects.filter(key=f"{tag}-fixed").exists():
        raise RuntimeError(f"{tag} is not fixed yet")
    return "fixed"


@DBOS.workflow()
def fragile(tag: str) -> str:
    """Step 1 records, step 2 fails until the test writes the ``<tag>-fixed`` row."""
    record(f"{tag}-1")
    needs_fix(tag)
    return f"{tag}-done"


@DBOS.workflow()
def ticked(scheduled_time: object, context: object) -> None:
    record(f"tick-{context}")


class Unpickled:
    """A pickle that, if it were ever loaded, would create a file: the admin must never load it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.touch, (self.marker,))


def pickled(value: object) -> str:
    return "pickle:" + base64.b64encode(pickle.dumps(value)).decode()


def url(name: str, *args: str) -> str:
    return reverse(f"admin:dbos_django_{name}", args=args)


def make(workflow_id: str, status: str, *, created: int | None = None, **fields: object) -> Workflow:
    """A workflow row written directly (no runtime): the admin only reads it."""
    now = clock.now_ms()
    values = {"name": "orders.checkout", "inputs": '{"args":[1],"kwargs":{}}', "application_version": "v1",
              "application_name": "tests", "created_at": created or now - HOUR, "updated_at": now, **fields}  # fmt: skip
    return Workflow.objects.create(workflow_id=workflow_id, status=status, **values)


@pytest.fixture
def rows(tmp_path: Path) -> dict[str, object]:
    """Workflows in every status, with steps, events, messages, streams, relatives, queues, workers, schedules."""
    now = clock.now_ms()
    marker = tmp_path / "unpickled"
    make("wf-success", "SUCCESS", output='{"total": 42}', completed_at=now - HOUR + 1500, executor_id="w-alive")
    make("wf-error", "ERROR", name="orders.refund", error=pickled(Unpickled(marker)), completed_at=now,
         executor_id="w-alive", application_version="v2-0123456789abcdef")  # fmt: skip
    make("wf-pending", "PENDING", executor_id="w-dead", started_at=now - 2 * HOUR, queue_name="admin-tests")
    make("wf-enqueued", "ENQUEUED", queue_name="admin-tests", priority=3, created=now - 10 * 60_000)
    make("wf-delayed", "DELAYED", queue_name="stored-queue", delay_until_epoch_ms=now + HOUR)
    make("wf-cancelled", "CANCELLED", completed_at=now)
    make("wf-maxrec", "MAX_RECOVERY_ATTEMPTS_EXCEEDED", recovery_attempts=101, completed_at=now)
    make("wf-child", "SUCCESS", parent_workflow_id="wf-error", completed_at=now)
    make("wf-fork", "ENQUEUED", forked_from="wf-error", queue_name="_dbos_internal_queue")
    make("wf-xss", "SUCCESS", name="<script>alert('name')</script>", output='"<b>bold</b>"', completed_at=now)
    StepOutput.objects.bulk_create([
        StepOutput(workflow_id="wf-error", function_id=1, function_name="charge", output='{"receipt": "r-1"}',
                   started_at_epoch_ms=now - 3000, completed_at_epoch_ms=now - 2000),
        StepOutput(workflow_id="wf-error", function_id=2, function_name="DBOS.startWorkflow",
                   child_workflow_id="wf-child", output='"wf-child"', started_at_epoch_ms=now - 2000,
                   completed_at_epoch_ms=now - 1500),
        StepOutput(workflow_id="wf-error", function_id=3, function_name="ship", error='{"name": "RuntimeError", '
                   '"message": "carrier down"}', started_at_epoch_ms=now - 1500, completed_at_epoch_ms=now - 10),
    ])  # fmt: skip
    WorkflowEvent.objects.create(workflow_id="wf-error", key="progress", value='{"done": 2}')
    Message.objects.create(message_id="m-1", destination_id="wf-error", topic="payment", message='{"amount": 5}',
                           created_at=now, consumed=True)  # fmt: skip
    Message.objects.create(message_id="m-2", destination_id="wf-error", message='"later"', created_at=now)
    StreamEntry.objects.bulk_create([
        StreamEntry(workflow_id="wf-error", key="log", offset=0, value='"first line"'),
        StreamEntry(workflow_id="wf-error", key="log", offset=1, value='"second line"'),
        StreamEntry(workflow_id="wf-error", key="log", offset=2, value='"__DBOS_STREAM_CLOSED__"'),
        StreamEntry(workflow_id="wf-error", key="open", offset=0, value='{"p": 1}'),
    ])  # fmt: skip
    Executor.objects.create(executor_id="w-alive", hostname="web-1", pid=11, started_at=now - HOUR, heartbeat_at=now,
                            application_version="v1", queues="admin-tests", running=1)  # fmt: skip
    Executor.objects.create(executor_id="w-dead", hostname="web-2", pid=12, started_at=now - HOUR,
                            heartbeat_at=now - HOUR, application_version="v1")  # fmt: skip
    DatabaseQueue.objects.create(name="stored-queue", concurrency=5, rate_limit_max=10, rate_limit_period_sec=60,
                                 created_at=now, updated_at=now)  # fmt: skip
    Schedule.objects.create(schedule_id="s-1", schedule_name="nightly", workflow_name=ticked.__qualname__,
                            schedule="0 3 * * *", created_at=now, context='"ctx"')  # fmt: skip
    Schedule.objects.create(schedule_id="s-2", schedule_name="paused-one", workflow_name=ticked.__qualname__,
                            schedule="*/5 * * * *", status=Schedule.PAUSED, created_at=now)  # fmt: skip
    return {"marker": marker}


def staff(*codenames: str) -> Client:
    """A logged-in staff user holding only the given dbos_django permissions (and viewing workflows)."""
    user = User.objects.create_user(f"staff-{'-'.join(codenames) or 'none'}", password="pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="dbos_django", codename__in=codenames)
    assert perms.count() == len(codenames), codenames
    user.user_permissions.add(*perms)
    client = Client()
    client.force_login(user)
    return client


def list_post(client: Client, action: str, ids: list[str], **extra: str):
    return client.post(CHANGELIST, {"action": action, "index": 0, "_selected_action": ids, **extra})


# Pages


@pytest.mark.django_db
def test_every_page_renders_with_data_in_every_state(admin_client, rows):
    pages = [CHANGELIST, url("databasequeue_changelist"), url("executor_changelist"), url("schedule_changelist"),
             url("schedule_add"), url("databasequeue_add"), url("databasequeue_change", "stored-queue"),
             url("schedule_change", "s-1"), url("schedule_change", "s-2"), "/admin/", "/admin/dbos_django/"]  # fmt: skip
    pages += [url("workflow_change", w) for w in Workflow.objects.values_list("pk", flat=True)]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page


@pytest.mark.django_db
def test_the_list_shows_each_workflow_newest_first_with_its_columns(admin_client, rows):
    response = admin_client.get(CHANGELIST)
    ids = [w.pk for w in response.context["cl"].result_list]
    assert ids == list(Workflow.objects.order_by("-created_at", "-pk").values_list("pk", flat=True))
    assert ids[0] == "wf-enqueued" and len(ids) == 10  # the newest
    body = response.content.decode()
    assert 'class="dbos-status dbos-status-error">ERROR' in body
    assert 'class="dbos-status dbos-status-success">SUCCESS' in body
    assert "v2-01234…" in body and "admin-tests" in body and "w-alive" in body


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected"), [
    ("status__exact=ERROR", {"wf-error"}),
    ("name=orders.refund", {"wf-error"}),
    ("queue=admin-tests", {"wf-pending", "wf-enqueued"}),
    ("executor=w-dead", {"wf-pending"}),
    ("version=v2-0123456789abcdef", {"wf-error"}),
    ("version=v1&status__exact=SUCCESS", {"wf-success", "wf-child", "wf-xss"}),
    ("pending_for=1h", {"wf-pending"}),
    ("pending_for=1d", set()),
    ("q=wf-e", {"wf-error", "wf-enqueued"}),
    ("q=wf-error", {"wf-error"}),
    ("q=orders.refund", {"wf-error"}),
    ("q=orders.ref", set()),
])  # fmt: skip
def test_filters_and_search(admin_client, rows, query, expected):
    response = admin_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    assert {w.pk for w in response.context["cl"].result_list} == expected


@pytest.mark.django_db
def test_filters_list_the_values_present(admin_client, rows):
    response = admin_client.get(CHANGELIST)
    specs = {spec.title: [c for c, _ in spec.lookup_choices] for spec in response.context["cl"].filter_specs
             if hasattr(spec, "lookup_choices")}  # fmt: skip
    assert specs["name"] == ["<script>alert('name')</script>", "orders.checkout", "orders.refund"]
    assert specs["application version"] == ["v1", "v2-0123456789abcdef"]
    assert specs["executor"] == ["w-alive", "w-dead"]
    assert {"admin-tests", "stored-queue"} <= set(specs["queue"])


@pytest.mark.django_db
def test_the_list_never_counts_the_whole_table(admin_client, rows):
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(f"{CHANGELIST}?status__exact=SUCCESS")
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "dbos_workflow_status" in q["sql"]]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts


@pytest.mark.django_db
def test_the_paginator_counts_exactly_up_to_its_bound_then_estimates(rows):
    queryset = Workflow.objects.order_by("-created_at")
    assert EstimatedCountPaginator(queryset, 2).count == 10
    paginator = EstimatedCountPaginator(queryset, 2)
    paginator.exact_up_to = 4
    if connection.vendor == "postgresql":
        assert paginator.count >= 5 and paginator.estimated
    else:  # no planner estimate: an exact count
        assert paginator.count == 10 and not paginator.estimated


@pytest.mark.django_db
def test_the_workflow_page_shows_steps_events_messages_streams_and_relatives(admin_client, rows):
    body = admin_client.get(url("workflow_change", "wf-error")).content.decode()
    assert "charge" in body and "DBOS.startWorkflow" in body and "ship" in body
    assert "carrier down" in body and "receipt" in body
    assert url("workflow_change", "wf-child") in body  # the step's child workflow, and the children list
    assert url("workflow_change", "wf-fork") in body  # a fork of it
    assert "progress" in body and "&quot;done&quot;: 2" in body
    assert "payment" in body and "(no topic)" in body and "amount" in body
    assert "second line" in body and "first line" not in body  # the stream's latest value
    child = admin_client.get(url("workflow_change", "wf-child")).content.decode()
    assert url("workflow_change", "wf-error") in child  # its parent
    fork = admin_client.get(url("workflow_change", "wf-fork")).content.decode()
    assert "forked from" in fork and url("workflow_change", "wf-error") in fork


@pytest.mark.django_db
def test_stored_values_are_escaped_and_never_unpickled(admin_client, rows):
    body = admin_client.get(url("workflow_change", "wf-error")).content.decode()
    assert "&lt;pickled " in body  # described, not loaded
    assert not rows["marker"].exists()
    xss = admin_client.get(url("workflow_change", "wf-xss")).content.decode()
    listing = admin_client.get(CHANGELIST).content.decode()
    for page in (xss, listing):
        assert "<script>alert(" not in page and "&lt;script&gt;alert(" in page
    assert "<b>bold</b>" not in xss and "&lt;b&gt;bold&lt;/b&gt;" in xss


@pytest.mark.django_db
def test_the_list_warns_when_no_worker_is_alive(admin_client, rows):
    assert "dbos-no-worker" not in admin_client.get(CHANGELIST).content.decode()
    Executor.objects.filter(executor_id="w-alive").update(heartbeat_at=clock.now_ms() - HOUR)
    assert "dbos-no-worker" in admin_client.get(CHANGELIST).content.decode()


@pytest.mark.django_db
def test_the_workers_page_tells_alive_from_dead(admin_client, rows):
    response = admin_client.get(url("executor_changelist"))
    body = response.content.decode()
    assert "dbos-status-success\">alive" in body and "dbos-status-error\">dead" in body
    alive = admin_client.get(url("executor_changelist") + "?state=alive").context["cl"].result_list
    assert [e.pk for e in alive] == ["w-alive"]


@pytest.mark.django_db
def test_the_queues_page_counts_each_queue_and_shows_its_limits(admin_client, rows):
    response = admin_client.get(url("databasequeue_changelist"))
    queues = {q.name: q for q in response.context["queues"]}
    assert queues["admin-tests"].counts == {"ENQUEUED": 1, "PENDING": 1}
    assert queues["admin-tests"].source == "code" and "concurrency: 2" in queues["admin-tests"].limits
    assert queues["admin-tests"].oldest.startswith("10")  # minutes
    assert queues["stored-queue"].counts == {"DELAYED": 1}
    assert queues["stored-queue"].limits == ["concurrency: 5", "rate: 10 per 60 s"]
    assert queues["stored-queue"].edit_url == url("databasequeue_change", "stored-queue")


@pytest.mark.django_db
def test_a_stored_queue_s_limits_are_edited_through_the_engine(admin_client, rows):
    data = {"concurrency": 8, "worker_concurrency": 2, "rate_limit_max": "", "rate_limit_period_sec": "",
            "polling_interval_sec": 0.5}  # fmt: skip
    response = admin_client.post(url("databasequeue_change", "stored-queue"), data)
    assert response.status_code == 302
    row = DatabaseQueue.objects.get(name="stored-queue")
    assert (row.concurrency, row.worker_concurrency, row.rate_limit_max, row.polling_interval_sec) == (8, 2, None, 0.5)


@pytest.mark.django_db
def test_inconsistent_queue_limits_are_refused(admin_client, rows):
    data = {"concurrency": 2, "worker_concurrency": 5, "polling_interval_sec": 1}
    response = admin_client.post(url("databasequeue_change", "stored-queue"), data)
    assert response.status_code == 200 and "exceeds concurrency" in response.content.decode()
    assert DatabaseQueue.objects.get(name="stored-queue").concurrency == 5


@pytest.mark.django_db
def test_a_queue_added_in_the_admin_is_registered(admin_client, rows):
    response = admin_client.post(url("databasequeue_add"), {"name": "from-admin", "concurrency": 3,
                                                            "polling_interval_sec": 1})  # fmt: skip
    assert response.status_code == 302
    assert DatabaseQueue.objects.get(name="from-admin").concurrency == 3


# Workflow actions (rows written directly: cancel, resume, fork and delete need no runtime)


@pytest.mark.django_db
def test_cancel_from_the_list_confirms_then_cancels(admin_client, rows):
    response = list_post(admin_client, "cancel_selected", ["wf-pending", "wf-enqueued", "wf-success"])
    assert response.status_code == 200
    assert response.templates[0].name == "admin/dbos_django/workflow/confirm.html"
    assert Workflow.objects.get(pk="wf-pending").status == "PENDING"  # nothing happened yet
    assert [w["pk"] for w in response.context["skipped"]] == ["wf-success"]
    response = list_post(admin_client, "cancel_selected", ["wf-pending", "wf-enqueued", "wf-success"], confirm="yes")
    assert response.status_code == 302
    statuses = dict(Workflow.objects.filter(pk__in=["wf-pending", "wf-enqueued", "wf-success"])
                    .values_list("pk", "status"))  # fmt: skip
    assert statuses == {"wf-pending": "CANCELLED", "wf-enqueued": "CANCELLED", "wf-success": "SUCCESS"}
    messages = [str(m) for m in admin_client.get(CHANGELIST).context["messages"]]
    assert "Cancelled 2 workflows." in messages


@pytest.mark.django_db
def test_select_across_acts_on_every_workflow_the_filters_match(admin_client, rows):
    response = admin_client.post(f"{CHANGELIST}?queue=admin-tests", {
        "action": "cancel_selected", "index": 0, "select_across": "1", "_selected_action": ["wf-pending"],
        "confirm": "yes"})  # fmt: skip
    assert response.status_code == 302
    cancelled = set(Workflow.objects.filter(status="CANCELLED").values_list("pk", flat=True))
    assert cancelled == {"wf-cancelled", "wf-pending", "wf-enqueued"}


@pytest.mark.django_db
def test_resume_from_the_workflow_page_puts_it_back_on_a_queue(admin_client, rows):
    page = admin_client.get(url("workflow_resume", "wf-cancelled"))
    assert page.status_code == 200 and "Yes, resume" in page.content.decode()
    response = admin_client.post(url("workflow_resume", "wf-cancelled"), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == url("workflow_change", "wf-cancelled")
    row = Workflow.objects.get(pk="wf-cancelled")
    assert (row.status, row.queue_name) == ("ENQUEUED", "_dbos_internal_queue")


@pytest.mark.django_db
def test_resume_leaves_finished_workflows_alone_and_says_why(admin_client, rows):
    response = list_post(admin_client, "resume_selected", ["wf-error", "wf-maxrec"])
    reasons = {w["pk"]: w["reason"] for w in response.context["skipped"]}
    assert list(reasons) == ["wf-error"] and "restart it or fork it" in reasons["wf-error"]
    list_post(admin_client, "resume_selected", ["wf-error", "wf-maxrec"], confirm="yes")
    assert Workflow.objects.get(pk="wf-error").status == "ERROR"
    assert Workflow.objects.get(pk="wf-maxrec").status == "ENQUEUED"


@pytest.mark.django_db
def test_restart_from_the_list_forks_each_workflow_from_step_one(admin_client, rows):
    response = list_post(admin_client, "restart_selected", ["wf-error", "wf-success"], confirm="yes")
    assert response.status_code == 302
    forks = Workflow.objects.filter(forked_from__in=["wf-error", "wf-success"]).exclude(pk="wf-fork")
    assert sorted(forks.values_list("forked_from", "status")) == [("wf-error", "ENQUEUED"), ("wf-success", "ENQUEUED")]
    assert not StepOutput.objects.filter(workflow_id__in=forks.values("pk")).exists()


@pytest.mark.django_db
def test_fork_shows_the_steps_and_reuses_those_before_the_chosen_one(admin_client, rows):
    page = admin_client.get(url("workflow_fork", "wf-error"))
    choices = [value for value, _ in page.context["form"].fields["start_step"].choices]
    assert choices == [1, 2, 3, 4] and page.context["form"].fields["start_step"].initial == 3
    response = admin_client.post(url("workflow_fork", "wf-error"), {"start_step": 3, "confirm": "yes"})
    fork = Workflow.objects.exclude(pk="wf-fork").get(forked_from="wf-error")
    assert response.status_code == 302 and response["Location"] == url("workflow_change", fork.pk)
    assert list(StepOutput.objects.filter(workflow_id=fork.pk).values_list("function_id", flat=True)) == [1, 2]


@pytest.mark.django_db
def test_fork_refuses_a_step_that_is_not_offered(admin_client, rows):
    response = admin_client.post(url("workflow_fork", "wf-error"), {"start_step": 99, "confirm": "yes"})
    assert response.status_code == 200 and response.context["form"].errors
    assert Workflow.objects.filter(forked_from="wf-error").count() == 1  # only wf-fork


@pytest.mark.django_db
def test_fork_from_the_list_opens_the_form_of_the_one_selected_workflow(admin_client, rows):
    response = list_post(admin_client, "fork_selected", ["wf-error"])
    assert response.status_code == 302 and response["Location"] == url("workflow_fork", "wf-error")
    response = list_post(admin_client, "fork_selected", ["wf-error", "wf-success"])
    assert response.status_code == 302 and response["Location"].startswith(CHANGELIST)


@pytest.mark.django_db
def test_delete_confirms_then_deletes_the_workflow_and_what_it_recorded(admin_client, rows):
    page = admin_client.get(url("workflow_delete", "wf-error"))
    assert page.status_code == 200 and "Yes, delete" in page.content.decode()
    response = admin_client.post(url("workflow_delete", "wf-error"), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert not Workflow.objects.filter(pk="wf-error").exists()
    for model in (StepOutput, WorkflowEvent, StreamEntry):
        assert not model.objects.filter(workflow_id="wf-error").exists()
    assert not Message.objects.filter(destination_id="wf-error").exists()


@pytest.mark.django_db
def test_actions_are_recorded_in_the_admin_history(admin_client, rows):
    admin_client.post(url("workflow_cancel", "wf-pending"), {"confirm": "yes"})
    history = admin_client.get(url("workflow_history", "wf-pending")).content.decode()
    assert "Cancelled from the admin" in history


# Permissions


@pytest.mark.django_db
def test_a_viewer_gets_no_action_and_a_403_on_a_forged_post(rows):
    viewer = staff("view_workflow")
    response = viewer.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["action_form"] is None and 'name="_selected_action"' not in response.content.decode()
    page = viewer.get(url("workflow_change", "wf-pending")).content.decode()
    assert "dbos-op" not in page
    for action in ("cancel_selected", "resume_selected", "restart_selected", "fork_selected", "delete_selected"):
        assert list_post(viewer, action, ["wf-pending"], confirm="yes").status_code == 403, action
    for name in ("cancel", "resume", "restart", "fork", "delete"):
        assert viewer.get(url(f"workflow_{name}", "wf-pending")).status_code == 403, name
        assert viewer.post(url(f"workflow_{name}", "wf-pending"), {"confirm": "yes", "start_step": 1}).status_code == 403
    assert Workflow.objects.get(pk="wf-pending").status == "PENDING"
    assert Workflow.objects.count() == 10


@pytest.mark.django_db
@pytest.mark.parametrize(("codename", "action"), [
    ("cancel_workflow", "cancel_selected"), ("resume_workflow", "resume_selected"),
    ("restart_workflow", "restart_selected"), ("fork_workflow", "fork_selected"), ("delete_workflow", "delete_selected"),
])  # fmt: skip
def test_each_permission_offers_its_own_action_only(rows, codename, action):
    client = staff("view_workflow", codename)
    choices = [c for c, _ in client.get(CHANGELIST).context["action_form"].fields["action"].choices if c]
    assert choices == [action]
    page = client.get(url("workflow_change", "wf-pending")).content.decode()
    operation = action.removesuffix("_selected")
    assert f"dbos-op-{operation}" in page
    assert page.count("dbos-op ") == 1
    others = {"cancel_selected", "resume_selected", "restart_selected", "delete_selected"} - {action}
    for other in others:
        assert list_post(client, other, ["wf-pending"], confirm="yes").status_code == 403


@pytest.mark.django_db
def test_the_buttons_of_a_workflow_page_follow_its_status(admin_client, rows):
    finished = admin_client.get(url("workflow_change", "wf-success")).content.decode()
    assert "dbos-op-cancel" not in finished and "dbos-op-resume" not in finished and "dbos-op-restart" in finished
    running = admin_client.get(url("workflow_change", "wf-pending")).content.decode()
    assert "dbos-op-cancel" in running and "dbos-op-resume" in running


@pytest.mark.django_db
def test_workflows_cannot_be_added_or_edited(admin_client, rows):
    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    response = admin_client.post(url("workflow_change", "wf-pending"), {"status": "SUCCESS"})
    assert response.status_code == 403
    assert Workflow.objects.get(pk="wf-pending").status == "PENDING"


# Schedules


@pytest.mark.django_db
def test_pause_resume_and_trigger_schedules_through_the_engine(admin_client, rows):
    list_post_to(admin_client, url("schedule_changelist"), "pause_selected", ["s-1"])
    assert Schedule.objects.get(pk="s-1").status == Schedule.PAUSED
    page = admin_client.get(url("schedule_resume", "s-2"))
    assert page.status_code == 200 and "Yes, resume" in page.content.decode()
    admin_client.post(url("schedule_resume", "s-2"), {"confirm": "yes"})
    assert Schedule.objects.get(pk="s-2").status == Schedule.ACTIVE
    response = admin_client.post(url("schedule_trigger", "s-2"), {"confirm": "yes"})
    assert response.status_code == 302
    fired = Workflow.objects.get(workflow_id__startswith="sched-paused-one-trigger-")
    assert (fired.name, fired.status) == (ticked.__qualname__, "ENQUEUED")


@pytest.mark.django_db
def test_the_schedule_list_shows_the_next_tick(admin_client, rows):
    body = admin_client.get(url("schedule_changelist")).content.decode()
    assert "03:00:00" in body and "paused" in body


@pytest.mark.django_db
def test_a_schedule_created_in_the_admin_is_stored_by_the_engine(admin_client, rows):
    response = admin_client.post(url("schedule_add"), {
        "schedule_name": "from-admin", "workflow_name": ticked.__qualname__, "schedule": "*/10 * * * *",
        "cron_timezone": "Europe/Paris", "queue_name": "admin-tests", "context": '{"region": "eu"}'})  # fmt: skip
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    row = Schedule.objects.get(schedule_name="from-admin")
    assert (row.kind, row.context, row.cron_timezone, row.queue_name) == ("dynamic", '{"region":"eu"}',
                                                                           "Europe/Paris", "admin-tests")


@pytest.mark.django_db
def test_a_bad_cron_expression_or_time_zone_is_refused(admin_client, rows):
    response = admin_client.post(url("schedule_add"), {
        "schedule_name": "bad", "workflow_name": ticked.__qualname__, "schedule": "every day",
        "cron_timezone": "Mars/Olympus", "context": "null"})  # fmt: skip
    errors = response.context["adminform"].form.errors
    assert "schedule" in errors and "cron_timezone" in errors
    assert not Schedule.objects.filter(schedule_name="bad").exists()


@pytest.mark.django_db
def test_schedule_actions_need_the_change_permission(rows):
    viewer = staff("view_schedule")
    assert list_post_to(viewer, url("schedule_changelist"), "pause_selected", ["s-1"]).status_code == 403
    assert viewer.post(url("schedule_trigger", "s-1"), {"confirm": "yes"}).status_code == 403
    assert viewer.post(url("schedule_delete", "s-1"), {"confirm": "yes"}).status_code == 403
    assert "dbos-op" not in viewer.get(url("schedule_change", "s-1")).content.decode()
    assert Schedule.objects.get(pk="s-1").status == Schedule.ACTIVE
    manager = staff("view_schedule", "change_schedule")
    assert list_post_to(manager, url("schedule_changelist"), "pause_selected", ["s-1"]).status_code == 302
    assert Schedule.objects.get(pk="s-1").status == Schedule.PAUSED


def list_post_to(client: Client, changelist: str, action: str, ids: list[str]):
    return client.post(changelist, {"action": action, "index": 0, "_selected_action": ids, "confirm": "yes"})


# With a runtime: the actions' workflows run to the end


@pytest.mark.django_db(transaction=True)
def test_a_failed_workflow_forked_from_its_failed_step_succeeds_once_fixed(dbos, admin_client):
    with SetWorkflowID("adm-fork"):
        handle = DBOS.start_workflow(fragile, "f")
    with pytest.raises(RuntimeError):
        handle.get_result()
    SideEffect.objects.create(key="f-fixed")
    response = admin_client.post(url("workflow_fork", "adm-fork"), {"start_step": 2, "confirm": "yes"})
    fork_id = Workflow.objects.get(forked_from="adm-fork").pk
    assert response["Location"] == url("workflow_change", fork_id)
    assert DBOS.retrieve_workflow(fork_id).get_result() == "f-done"
    assert SideEffect.objects.filter(key="f-1").count() == 1  # step 1 was reused, not run again


@pytest.mark.django_db(transaction=True)
def test_a_restarted_workflow_runs_every_step_again(dbos, admin_client):
    SideEffect.objects.create(key="g-fixed")
    with SetWorkflowID("adm-restart"):
        fragile("g")
    list_post(admin_client, "restart_selected", ["adm-restart"], confirm="yes")
    fork_id = Workflow.objects.get(forked_from="adm-restart").pk
    assert DBOS.retrieve_workflow(fork_id).get_result() == "g-done"
    assert SideEffect.objects.filter(key="g-1").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_workflow_resumed_from_its_page_runs_to_the_end(dbos, admin_client):
    SideEffect.objects.create(key="h-fixed")
    with SetWorkflowID("adm-resume"), SetEnqueueOptions(delay_seconds=3600):
        admin_queue.enqueue(fragile, "h")
    admin_client.post(url("workflow_cancel", "adm-resume"), {"confirm": "yes"})
    assert Workflow.objects.get(pk="adm-resume").status == "CANCELLED"
    admin_client.post(url("workflow_resume", "adm-resume"), {"confirm": "yes"})
    wait_for(lambda: Workflow.objects.get(pk="adm-resume").status == "SUCCESS")
    assert DBOS.retrieve_workflow("adm-resume").get_result() == "h-done"


def test_workflows_pinned_to_a_version_no_worker_runs_are_shown_and_can_move_to_the_current_one(admin_client):
    """The version policy, visible: a banner names the stranded versions; an action moves them on."""
    from dbos_django import conf as dbos_conf
    from dbos_django.models import Executor, Workflow

    now = int(__import__("time").time() * 1000)
    current = dbos_conf.get().version()
    Executor.objects.create(executor_id="live", started_at=now, heartbeat_at=now, application_version=current)
    Workflow.objects.create(workflow_id="stranded-1", status="ENQUEUED", name="old", queue_name="q",
                            application_version="v-old", created_at=now, updated_at=now)  # fmt: skip
    Workflow.objects.create(workflow_id="stranded-2", status="PENDING", name="old", executor_id="gone",
                            application_version="v-old", created_at=now, updated_at=now)  # fmt: skip
    page = admin_client.get("/admin/dbos_django/workflow/").content.decode()
    assert "no live worker runs" in page and "v-old" in page and "(2)" in page
    response = admin_client.post("/admin/dbos_django/workflow/", {
        "action": "current_version_selected", "_selected_action": ["stranded-1", "stranded-2"], "confirm": "yes",
        "index": 0})  # fmt: skip
    assert response.status_code == 302
    rows = {w.workflow_id: (w.status, w.application_version) for w in Workflow.objects.all()}
    assert rows == {"stranded-1": ("ENQUEUED", current), "stranded-2": ("ENQUEUED", current)}
    assert "no live worker runs" not in admin_client.get("/admin/dbos_django/workflow/").content.decode()
