"""Control, messages and schedules across processes: the test process acts, a dbos_worker runs."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from dbos_django import DBOS, SetWorkflowID
from dbos_django.error import DBOSAwaitedWorkflowCancelledError
from dbos_django.models import StepOutput, Workflow
from tests.app.models import SideEffect
from tests.app.processes import processes, receives, ticks, two_marks_with_a_gate
from tests.conftest import PYTHON, ROOT, subprocess_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
START_TIMEOUT = 60.0


@pytest.fixture
def workers(tmp_path) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_worker(procs: list[subprocess.Popen[bytes]], name: str) -> subprocess.Popen[bytes]:
    env = subprocess_env(DJANGO_SETTINGS_MODULE="tests.settings", DBOS_TEST_APPLICATION_VERSION="processes")
    proc = subprocess.Popen([PYTHON, "manage.py", "dbos_worker", "--executor-id", name, "--grace-period", "5"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    procs.append(proc)
    return proc


@pytest.fixture(autouse=True)
def pinned_version(settings):
    settings.DBOS = {**settings.DBOS, "APPLICATION_VERSION": "processes"}


def test_cancel_and_resume_a_workflow_running_in_a_worker(workers):
    start_worker(workers, "worker-a")
    with SetWorkflowID("x-1"):
        handle = processes.enqueue(two_marks_with_a_gate, "x1")
    wait_for(lambda: SideEffect.objects.filter(key="x1:first").exists(), timeout=START_TIMEOUT)
    DBOS.cancel_workflow("x-1")
    SideEffect.objects.create(key="x1:open")
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    time.sleep(0.5)  # the worker notices at its next checkpoint: the step after the gate never runs
    assert not SideEffect.objects.filter(key="x1:second").exists()
    assert Workflow.objects.get(workflow_id="x-1").status == "CANCELLED"
    resumed = DBOS.resume_workflow("x-1")
    assert resumed.get_result() == "x1:done"
    assert handle.get_result() == "x1:done"  # the original handle sees the final result
    assert SideEffect.objects.filter(key="x1:first").count() == 1
    assert SideEffect.objects.filter(key="x1:second").count() == 1


def test_a_message_from_this_process_reaches_a_workflow_in_a_worker(workers):
    start_worker(workers, "worker-b")
    with SetWorkflowID("x-2"):
        handle = processes.enqueue(receives, "greeting")
    wait_for(lambda: StepOutput.objects.filter(workflow_id="x-2", function_name="DBOS.sleep").exists(),
             timeout=START_TIMEOUT)  # fmt: skip
    DBOS.send("x-2", {"hello": "worker"}, "greeting")
    assert handle.get_result() == {"hello": "worker"}


def test_a_tick_seen_by_two_workers_runs_once(workers):
    DBOS.create_schedule(schedule_name="every-second", workflow_fn=ticks, schedule="* * * * * *",
                         automatic_backfill=True, cron_timezone="UTC")  # fmt: skip
    start_worker(workers, "worker-c")
    start_worker(workers, "worker-d")
    wait_for(lambda: SideEffect.objects.filter(key__startswith="tick:").count() >= 4, timeout=START_TIMEOUT)
    DBOS.pause_schedule("every-second")
    time.sleep(1.5)
    keys = list(SideEffect.objects.filter(key__startswith="tick:").values_list("key", flat=True))
    assert len(keys) == len(set(keys)) >= 4  # every tick ran, each exactly once
    fired = Workflow.objects.filter(workflow_id__startswith="sched-every-second-")
    assert fired.count() == len(keys)
    assert set(fired.values_list("executor_id", flat=True)) <= {"worker-c", "worker-d"}
