"""The operations commands: dbos_workflows, dbos_recover, dbos_health, dbos_prune (output, JSON, exit codes)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test.utils import CaptureQueriesContext

from dbos_django.engine import clock, retention
from dbos_django.engine.queue_admin import register as register_queue
from dbos_django.models import (
    Executor,
    Message,
    StepOutput,
    StreamEntry,
    TransactionOutput,
    Workflow,
    WorkflowEvent,
    WorkflowEventHistory,
)
from dbos_django.storage.queues import INTERNAL_QUEUE
from tests.conftest import PYTHON, ROOT, subprocess_env

DAY_MS = 86_400_000
PICKLED = "pickle:bm90IGEgcGlja2xl"  # not a valid pickle: unpickling it to print it would fail
LIST_KEYS = {"workflow_id", "status", "name", "class_name", "config_name", "queue_name", "executor_id", "app_version",
             "created_at", "updated_at", "completed_at", "recovery_attempts", "input", "output", "error"}  # fmt: skip


def row(workflow_id: str, **fields: object) -> Workflow:
    values: dict[str, object] = {"status": "SUCCESS", "name": "wf", "created_at": 1000, "updated_at": 1000,
                                 "application_version": "v1", "executor_id": "e1", "inputs": '{"args":[1],"kwargs":{}}',
                                 "output": '"out"', "serialization": "json+pickle"}  # fmt: skip
    values.update(fields)
    return Workflow.objects.create(workflow_id=workflow_id, **values)


def step(workflow_id: str, function_id: int, **fields: object) -> StepOutput:
    return StepOutput.objects.create(workflow_id=workflow_id, function_id=function_id,
                                     function_name=f"step{function_id}", **fields)  # fmt: skip


def run(*args: str) -> str:
    """Call a command; return what it wrote on stdout."""
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` in a child process on the test database (its exit code is the point)."""
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=subprocess_env(**env), text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=60)  # fmt: skip


@pytest.fixture
def listed(db):
    row("a", created_at=1000, name="alpha", completed_at=1500, output=PICKLED)
    row("b", created_at=2000, name="beta", status="ERROR", application_version="v2", executor_id="e2",
        completed_at=2500, output=None, error='{"name":"ValueError","message":"boom"}')  # fmt: skip
    row("c", created_at=3000, name="alpha", status="ENQUEUED", queue_name="q1", output=None)


# dbos_workflows list


def test_list_prints_a_table_newest_first(listed):
    lines = run("dbos_workflows", "list").splitlines()
    assert lines[0].split() == ["WORKFLOW", "ID", "STATUS", "NAME", "QUEUE", "EXECUTOR", "CREATED", "(UTC)"]
    assert [line.split()[0] for line in lines[1:]] == ["c", "b", "a"]
    assert "1970-01-01T00:00:03.000+00:00" in lines[1]


def test_list_json_gives_stable_keys_iso_utc_times_and_described_values(listed):
    found = json.loads(run("dbos_workflows", "list", "--json", "--oldest-first"))
    assert [set(item) for item in found] == [LIST_KEYS] * 3
    a, b, c = found
    assert (a["created_at"], a["completed_at"], c["completed_at"]) == ("1970-01-01T00:00:01.000+00:00",
                                                                       "1970-01-01T00:00:01.500+00:00", None)  # fmt: skip
    assert json.loads(a["input"]) == {"args": [1], "kwargs": {}}
    assert a["output"].startswith("<pickled Python object")  # shown, never unpickled
    assert json.loads(b["error"]) == {"name": "ValueError", "message": "boom"}
    assert (b["output"], b["app_version"], c["queue_name"], c["recovery_attempts"]) == (None, "v2", "q1", 0)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--status", "success", "--status", "ERROR"], ["b", "a"]),
        (["--name", "alpha"], ["c", "a"]),
        (["--queue", "q1"], ["c"]),
        (["--executor-id", "e2"], ["b"]),
        (["--app-version", "v1"], ["c", "a"]),
        (["--start-time", "1970-01-01T00:00:02", "--end-time", "1970-01-01T00:00:03+00:00"], ["c", "b"]),
        (["--workflow-id-prefix", "b"], ["b"]),
        (["--limit", "1", "--offset", "1"], ["b"]),
        (["--oldest-first", "--limit", "2"], ["a", "b"]),
        (["--sort-desc"], ["c", "b", "a"]),
    ],
)
def test_list_filters_mirror_list_workflows(listed, options, expected):
    assert [item["workflow_id"] for item in json.loads(run("dbos_workflows", "list", "--json", *options))] == expected


def test_list_says_so_when_nothing_matches(listed):
    assert run("dbos_workflows", "list", "--name", "nope") == "No workflows.\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--status", "DONE"], "invalid choice: 'DONE'"),
        (["--start-time", "yesterday"], "'yesterday' is not an ISO 8601 time"),
        (["--limit", "0"], "must be at least 1"),
        (["--oldest-first", "--sort-desc"], "not allowed with argument"),
    ],
)
def test_list_rejects_a_bad_option(db, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("dbos_workflows", "list", *options)


# dbos_workflows get, steps


def test_get_shows_every_field_and_the_described_values(listed):
    out = run("dbos_workflows", "get", "b")
    assert re.search(r"^workflow_id +b$", out, re.M) and re.search(r"^status +ERROR$", out, re.M)
    assert re.search(r"^parent_workflow_id +-$", out, re.M) and "\noutput:" not in out
    assert 'error:\n  {\n    "name": "ValueError",' in out
    details = json.loads(run("dbos_workflows", "get", "a", "--json"))
    assert LIST_KEYS < set(details) and details["parent_workflow_id"] is None
    assert details["output"].startswith("<pickled Python object")


def test_steps_lists_the_checkpoints_in_order(listed):
    step("a", 2, output=PICKLED, started_at_epoch_ms=1200, completed_at_epoch_ms=1300)
    step("a", 1, output='{"total":3}', child_workflow_id="a-child")
    step("a", 3, error='{"name":"KeyError","message":"k"}')
    lines = run("dbos_workflows", "steps", "a").splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3"]
    assert "a-child" in lines[1] and '{ "total": 3 }' in lines[1] and "<pickled Python object" in lines[2]
    assert 'error: { "name": "KeyError"' in lines[3]
    found = json.loads(run("dbos_workflows", "steps", "a", "--json"))
    assert [s["function_id"] for s in found] == [1, 2, 3]
    assert found[1]["started_at"] == "1970-01-01T00:00:01.200+00:00" and found[0]["error"] is None
    assert set(found[0]) == {"function_id", "function_name", "child_workflow_id", "started_at", "completed_at",
                             "output", "error"}  # fmt: skip


def test_steps_of_a_workflow_without_steps(listed):
    assert run("dbos_workflows", "steps", "c") == "No steps.\n"


@pytest.mark.parametrize(
    "action", [["get"], ["steps"], ["cancel"], ["resume"], ["fork", "--step", "1"], ["delete", "--yes"]]
)
def test_an_unknown_workflow_id_is_an_error(db, action):
    with pytest.raises(CommandError, match="^Workflow nope does not exist$"):
        call_command("dbos_workflows", action[0], "nope", *action[1:])


# dbos_workflows cancel, resume, fork, delete


def test_cancel_stops_a_workflow_and_with_children_its_descendants(db):
    row("p", status="PENDING", output=None)
    row("p-child", status="ENQUEUED", queue_name="q1", parent_workflow_id="p", output=None)
    assert run("dbos_workflows", "cancel", "p") == "Cancelled workflow p\n"
    assert Workflow.objects.get(pk="p-child").status == "ENQUEUED"
    run("dbos_workflows", "cancel", "p", "--children")
    assert set(Workflow.objects.values_list("status", flat=True)) == {"CANCELLED"}


def test_cancel_leaves_a_finished_workflow_as_is(db):
    row("done")
    assert run("dbos_workflows", "cancel", "done") == "Workflow done had already finished (SUCCESS): left as is\n"
    assert Workflow.objects.get(pk="done").status == "SUCCESS"


def test_resume_puts_a_cancelled_workflow_back_on_a_queue(db):
    row("stopped", status="CANCELLED", output=None)
    register_queue("q1")  # the queue it goes back on must exist
    assert run("dbos_workflows", "resume", "stopped") == f"Resumed workflow stopped on queue {INTERNAL_QUEUE}\n"
    run("dbos_workflows", "resume", "stopped", "--queue", "q1")
    assert Workflow.objects.values_list("status", "queue_name").get(pk="stopped") == ("ENQUEUED", "q1")


def test_resume_of_a_finished_workflow_does_nothing(db):
    row("done")
    assert "already finished (SUCCESS): nothing to resume" in run("dbos_workflows", "resume", "done")
    assert Workflow.objects.get(pk="done").status == "SUCCESS"


def test_fork_prints_the_new_id_and_copies_the_steps_before_the_given_one(db):
    row("orig")
    for function_id in (1, 2, 3):
        step("orig", function_id, output=str(function_id))
    register_queue("q1")
    new_id = run("dbos_workflows", "fork", "orig", "--step", "3", "--app-version", "v9", "--queue", "q1").strip()
    fork = Workflow.objects.get(pk=new_id)
    assert (fork.forked_from, fork.status, fork.application_version) == ("orig", "ENQUEUED", "v9")
    assert fork.queue_name == "q1"
    assert list(StepOutput.objects.filter(workflow_id=new_id).values_list("function_id", flat=True)) == [1, 2]


def test_fork_needs_a_step_of_one_or_more(db):
    row("orig")
    with pytest.raises(CommandError, match="--step: must be at least 1"):
        call_command("dbos_workflows", "fork", "orig", "--step", "0")


def test_delete_with_yes_removes_the_workflow_everything_it_stored_and_with_children_its_descendants(db):
    stored_rows(row("gone"))
    row("gone-child", parent_workflow_id="gone")
    assert run("dbos_workflows", "delete", "gone", "--yes") == "Deleted workflow gone\n"
    assert counts("gone") == dict.fromkeys(counts("gone"), 0)
    assert Workflow.objects.filter(pk="gone-child").exists()
    row("gone")
    run("dbos_workflows", "delete", "gone", "--children", "--yes")
    assert not Workflow.objects.exists()


def test_delete_without_yes_and_without_a_terminal_refuses(db, monkeypatch):
    row("kept")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="Refusing to delete without --yes"):
        call_command("dbos_workflows", "delete", "kept")
    assert Workflow.objects.filter(pk="kept").exists()


@pytest.mark.parametrize(("answer", "left"), [("y", False), ("", True), ("no", True)])
def test_delete_asks_on_a_terminal(db, monkeypatch, answer, left):
    row("asked")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: answer)
    if left:
        with pytest.raises(CommandError, match="Not deleted"):
            call_command("dbos_workflows", "delete", "asked")
    else:
        call_command("dbos_workflows", "delete", "asked")
    assert Workflow.objects.filter(pk="asked").exists() is left


# dbos_recover


def executor(executor_id: str, seconds_ago: float) -> None:
    beat = clock.now_ms() - int(seconds_ago * 1000)
    Executor.objects.create(executor_id=executor_id, started_at=beat, heartbeat_at=beat)


def test_recover_re_enqueues_the_pending_workflows_of_an_executor(db):
    row("w1", status="PENDING", executor_id="gone", output=None)
    row("w2", status="PENDING", executor_id="gone", queue_name="q1", output=None)
    row("w3", status="PENDING", executor_id="other", output=None)
    assert run("dbos_recover", "--executor-id", "gone") == "Re-enqueued 2 PENDING workflow(s) of executor gone\n"
    assert dict(Workflow.objects.values_list("workflow_id", "queue_name").filter(status="ENQUEUED")) == {
        "w1": INTERNAL_QUEUE, "w2": "q1"}  # fmt: skip


def test_recover_refuses_an_executor_whose_heartbeat_is_recent_unless_forced(db):
    executor("alive", seconds_ago=1)
    row("w1", status="PENDING", executor_id="alive", output=None)
    with pytest.raises(CommandError, match="Executor alive is alive .*Use --force"):
        call_command("dbos_recover", "--executor-id", "alive")
    assert Workflow.objects.get(pk="w1").status == "PENDING"
    assert "Re-enqueued 1" in run("dbos_recover", "--executor-id", "alive", "--force")


def test_recover_dead_takes_the_work_of_silent_executors_only_and_forgets_them(db):
    executor("dead", seconds_ago=600)
    executor("alive", seconds_ago=1)
    row("w1", status="PENDING", executor_id="dead", output=None)
    row("w2", status="PENDING", executor_id="alive", output=None)
    assert run("dbos_recover", "--dead") == "Re-enqueued 1 PENDING workflow(s) of dead executor(s) dead\n"
    assert dict(Workflow.objects.values_list("workflow_id", "status")) == {"w1": "ENQUEUED", "w2": "PENDING"}
    assert list(Executor.objects.values_list("executor_id", flat=True)) == ["alive"]
    assert run("dbos_recover", "--dead") == "No executor has been silent for 60s: nothing to recover\n"


def test_recover_needs_exactly_one_of_executor_id_and_dead(db):
    with pytest.raises(CommandError, match="one of the arguments --executor-id --dead is required"):
        call_command("dbos_recover")
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("dbos_recover", "--dead", "--executor-id", "x")


# dbos_health


def health(*options: str) -> tuple[int, str]:
    """The exit code of ``dbos_health`` and its one line (stdout if healthy, stderr if not)."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("dbos_health", *options, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), err.getvalue()
    return 0, out.getvalue()


def test_health_is_ok_with_a_recent_heartbeat(db):
    executor("w", seconds_ago=2)
    assert health() == (0, "OK: database answers, migrations applied, worker heartbeat 2s ago\n")


def test_health_fails_with_code_5_without_a_recent_worker_heartbeat(db):
    assert health() == (5, "UNHEALTHY: no worker heartbeat in the last 60s (no worker has ever reported)\n")
    executor("w", seconds_ago=90)
    assert health("--worker-max-age", "30") == (5, "UNHEALTHY: no worker heartbeat in the last 30s (latest 90s ago)\n")


def test_health_skips_the_worker_check_with_a_max_age_of_zero(db):
    assert health("--worker-max-age", "0") == (0, "OK: database answers, migrations applied\n")


def test_health_fails_with_code_4_on_an_unapplied_migration(db):
    [(app, latest)] = MigrationLoader(connection).graph.leaf_nodes("dbos_django")
    MigrationRecorder(connection).migration_qs.filter(app=app, name=latest).delete()  # rolled back after the test
    assert health() == (4, f"UNHEALTHY: 1 unapplied migration(s): dbos_django.{latest}\n")


def test_health_checks_the_backlog_when_asked(db):
    executor("w", seconds_ago=1)
    now = clock.now_ms()
    row("waiting", status="ENQUEUED", queue_name="q1", updated_at=now - 120_000, output=None)
    row("running", status="PENDING", updated_at=now - 30_000, output=None)
    assert health("--max-enqueued-age", "300", "--max-pending-age", "60")[1].endswith(
        "oldest ENQUEUED 120s, oldest PENDING 30s\n")  # fmt: skip
    assert health("--max-enqueued-age", "100") == (6, "UNHEALTHY: a workflow has been ENQUEUED for 120s (limit 100s)\n")
    assert health("--max-pending-age", "10") == (7, "UNHEALTHY: a workflow has been PENDING for 30s (limit 10s)\n")


def test_health_rejects_a_bad_threshold(db):
    with pytest.raises(CommandError, match="--max-pending-age must be a positive number of seconds"):
        call_command("dbos_health", "--max-pending-age", "-1")


# dbos_prune


def stored_rows(workflow: Workflow) -> Workflow:
    """A row in every table that belongs to a workflow."""
    wid = workflow.workflow_id
    step(wid, 1, output="1")
    TransactionOutput.objects.create(workflow_id=wid, function_id=2, function_name="tx", created_at=1)
    Message.objects.create(message_id=f"m-{wid}", destination_id=wid, message="1", created_at=1)
    WorkflowEvent.objects.create(workflow_id=wid, key="k", value="1")
    WorkflowEventHistory.objects.create(workflow_id=wid, function_id=3, key="k", value="1")
    StreamEntry.objects.create(workflow_id=wid, key="s", offset=0, value="1")
    return workflow


def counts(workflow_id: str) -> dict[str, int]:
    return {
        "workflow": Workflow.objects.filter(workflow_id=workflow_id).count(),
        "steps": StepOutput.objects.filter(workflow_id=workflow_id).count(),
        "transactions": TransactionOutput.objects.filter(workflow_id=workflow_id).count(),
        "messages": Message.objects.filter(destination_id=workflow_id).count(),
        "events": WorkflowEvent.objects.filter(workflow_id=workflow_id).count(),
        "history": WorkflowEventHistory.objects.filter(workflow_id=workflow_id).count(),
        "streams": StreamEntry.objects.filter(workflow_id=workflow_id).count(),
    }


def aged(workflow_id: str, days: float, status: str = "SUCCESS", *, finished: bool = True) -> Workflow:
    when = clock.now_ms() - int(days * DAY_MS)
    return stored_rows(row(workflow_id, status=status, created_at=when - 1000, updated_at=when,
                           completed_at=when if finished else None))  # fmt: skip


@pytest.fixture
def history(db):
    for status in ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
        aged(f"old-{status}", 40, status)
    aged("recent", 5)
    aged("old-pending", 40, "PENDING", finished=False)
    aged("old-enqueued", 40, "ENQUEUED", finished=False)


def test_prune_deletes_exactly_the_old_finished_workflows_with_all_their_rows(history):
    out = run("dbos_prune", "--older-than", "30")
    assert out.startswith("Deleted 4 workflow(s) in 1 batch(es):\n") and "  dbos_step_output: 4\n" in out
    for status in ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
        assert set(counts(f"old-{status}").values()) == {0}
    for kept in ("recent", "old-pending", "old-enqueued"):
        assert set(counts(kept).values()) == {1}


def test_prune_keeps_a_message_a_pruned_workflow_sent_to_a_kept_one(history):
    Message.objects.create(message_id="to-recent", destination_id="recent", message="1", created_at=1)
    run("dbos_prune", "--older-than", "30")
    assert Message.objects.filter(message_id="to-recent").exists()


def test_prune_status_narrows_what_is_deleted(history):
    assert run("dbos_prune", "--older-than", "30", "--status", "error", "--status", "CANCELLED").startswith(
        "Deleted 2 workflow(s)")  # fmt: skip
    assert set(Workflow.objects.filter(workflow_id__startswith="old-").values_list("status", flat=True)) == {
        "SUCCESS", "MAX_RECOVERY_ATTEMPTS_EXCEEDED", "PENDING", "ENQUEUED"}  # fmt: skip


def test_prune_dry_run_counts_and_deletes_nothing(history):
    out = run("dbos_prune", "--older-than", "30", "--dry-run")
    assert out.startswith("Would delete 4 workflow(s) and their rows:\n")
    assert "  dbos_message: 4\n" in out and "  dbos_transaction_output: 4\n" in out
    assert Workflow.objects.count() == 7


def test_prune_works_in_batches(db):
    for index in range(5):
        aged(f"old-{index}", 40)
    with CaptureQueriesContext(connection) as queries:
        report = retention.prune(30, batch_size=2)
    assert (report.workflows, report.batches, report.rows["dbos_stream"]) == (5, 3, 5)
    batches = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE FROM dbos_workflow_status")]
    assert [sql.count(",") + 1 for sql in batches] == [2, 2, 1]
    assert not Workflow.objects.exists()


def test_prune_reports_its_batches(db):
    for index in range(5):
        aged(f"old-{index}", 40)
    out = run("dbos_prune", "--older-than", "30", "--batch-size", "2")
    assert out.startswith("Deleted 5 workflow(s) in 3 batch(es)")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--status", "PENDING"], "invalid choice: 'PENDING'"),
        (["--batch-size", "0"], "the batch size must be between 1 and 10000, not 0"),
        (["--older-than", "-1"], "the age must be zero or more days"),
    ],
)
def test_prune_rejects_a_bad_option(db, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("dbos_prune", "--older-than", "30", *options)


# Exit codes, from real processes


@pytest.mark.django_db(transaction=True)
def test_an_unknown_workflow_exits_1_saying_so():
    done = manage("dbos_workflows", "get", "nope")
    assert (done.returncode, done.stderr) == (1, "CommandError: Workflow nope does not exist\n")


@pytest.mark.django_db(transaction=True)
def test_delete_without_yes_in_a_pipe_exits_1_and_keeps_the_workflow():
    row("kept")
    done = manage("dbos_workflows", "delete", "kept")
    assert done.returncode == 1 and "Refusing to delete without --yes" in done.stderr
    assert Workflow.objects.filter(pk="kept").exists()


@pytest.mark.django_db(transaction=True)
def test_health_exits_0_when_healthy_and_5_without_a_worker():
    done = manage("dbos_health")
    assert (done.returncode, done.stdout, done.stderr) == (
        5, "", "UNHEALTHY: no worker heartbeat in the last 60s (no worker has ever reported)\n")  # fmt: skip
    executor("w", seconds_ago=0)
    done = manage("dbos_health")
    assert (done.returncode, done.stdout.startswith("OK: database answers"), done.stderr) == (0, True, "")


@pytest.mark.django_db(transaction=True)
def test_health_exits_3_when_the_database_does_not_answer():
    done = manage("dbos_health", DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable", DBOS_USE_TEST_DB="")
    assert done.returncode == 3
    assert done.stderr.startswith("UNHEALTHY: database 'default' does not answer (") and done.stderr.count("\n") == 1


@pytest.mark.django_db(transaction=True)
def test_a_bad_command_line_exits_2():
    done = manage("dbos_prune")
    assert done.returncode == 2 and "the following arguments are required: --older-than" in done.stderr
