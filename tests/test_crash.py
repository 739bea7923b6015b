"""Crash tests: a real process is killed with SIGKILL mid-workflow, a fresh one recovers it at launch.

The processes run ``tests/crash_worker.py``. These tests only look at the database through the
public API (``DBOS.get_workflow_status``, ``DBOS.list_workflow_steps``) and the ``SideEffect`` rows
the step bodies write; recovery is whatever ``DBOS.launch()`` does in the fresh process.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dbos_django import DBOS, StepInfo, WorkflowStatus
from dbos_django.models import StepOutput, Workflow
from tests.app.models import SideEffect
from tests.conftest import PYTHON, ROOT, subprocess_env, wait_for

WORKER = ROOT / "tests" / "crash_worker.py"
START_TIMEOUT = 60.0  # a process start (Django setup, launch) on a busy two-core machine
RECOVER_TIMEOUT = 90.0
STEPS_RESULT = [2, 20, 25]  # steps_workflow(1): step_one 1 + 1, transaction 2 * 10, step_three 20 + 5
SLEEP_SECONDS = 2.0  # crash_worker.SLEEP_SECONDS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass(slots=True)
class Workers:
    """The worker processes of one test, each logging to its own files; all killed at the end."""

    directory: Path
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, *args: str, executor_id: str | None = None) -> subprocess.Popen[str]:
        options = ["--executor-id", executor_id] if executor_id else []
        name = f"worker-{len(self.procs)}"
        with open(self.directory / f"{name}.out", "w") as out, open(self.directory / f"{name}.err", "w") as err:
            proc = subprocess.Popen([PYTHON, str(WORKER), *options, *args], env=subprocess_env(),
                                    stdout=out, stderr=err, text=True, cwd=ROOT)  # fmt: skip
        self.procs.append(proc)
        return proc

    def output(self, proc: subprocess.Popen[str]) -> str:
        """What a worker printed, with its stderr: the failure message when it misbehaves."""
        name = f"worker-{self.procs.index(proc)}"
        out = (self.directory / f"{name}.out").read_text()
        err = (self.directory / f"{name}.err").read_text()
        return f"exit code {proc.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"

    def run_until(self, kind: str, workflow_id: str, point: str, *, executor_id: str | None = None) -> subprocess.Popen[str]:  # fmt: skip
        """Start a workflow in a worker and wait until it blocks at ``point``."""
        signal = self.directory / f"{workflow_id}.{point}.reached"
        proc = self.start("run", kind, workflow_id, "--pause", point, "--signal", str(signal), executor_id=executor_id)
        wait_for(lambda: signal.exists() or proc.poll() is not None, timeout=START_TIMEOUT)
        assert signal.exists(), f"the worker never reached {point}: {self.output(proc)}"
        return proc

    def kill(self, proc: subprocess.Popen[str]) -> None:
        """SIGKILL: no atexit, no finally, no goodbye to the database."""
        proc.kill()
        proc.wait(timeout=30)

    def recover(self, workflow_id: str, *, executor_id: str | None = None) -> dict[str, Any]:
        """Launch a fresh worker, let its launch recover ``workflow_id``; return what it printed."""
        proc = self.start("recover", workflow_id, executor_id=executor_id)
        try:
            proc.wait(timeout=RECOVER_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"recovery of {workflow_id} did not finish: {self.output(proc)}") from None
        assert proc.returncode == 0, self.output(proc)
        lines = (self.directory / f"worker-{self.procs.index(proc)}.out").read_text().splitlines()
        return json.loads(lines[-1])

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(tmp_path)
    try:
        yield pool
    finally:
        pool.close()


def executions(workflow_id: str) -> dict[str, list[int]]:
    """Step name -> pids of the processes that ran its body, one per execution."""
    found: dict[str, list[int]] = {}
    for row in SideEffect.objects.filter(key__startswith=f"{workflow_id}:").order_by("id"):
        found.setdefault(row.key.split(":", 1)[1], []).append(row.created)
    return found


def step_names(workflow_id: str) -> list[str]:
    return [step["function_name"] for step in DBOS.list_workflow_steps(workflow_id)]


def status_of(workflow_id: str) -> WorkflowStatus:
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None, f"no workflow {workflow_id}"
    return status


def step_named(workflow_id: str, name: str) -> StepInfo:
    (step,) = [s for s in DBOS.list_workflow_steps(workflow_id) if s["function_name"] == name]
    return step


STEPS = ["step_one", "record_transaction", "step_three"]
KILLED, RECOVERED = "killed", "recovered"


@dataclass(frozen=True, slots=True)
class CrashPoint:
    """Where the worker dies, what had committed then, and which process runs each body in the end."""

    point: str
    checkpointed: int  # how many of STEPS had their checkpoint committed at the kill
    ran_by: dict[str, list[str]]  # side-effect key -> the processes that ran it, in order


CRASH_POINTS = [
    # The body's side effect committed, its checkpoint did not: recovery runs it again (at-least-once).
    CrashPoint(
        "in-step-one", 0, {"step_one": [KILLED, RECOVERED], "transaction": [RECOVERED], "step_three": [RECOVERED]}
    ),
    CrashPoint("after-step-one", 1, {"step_one": [KILLED], "transaction": [RECOVERED], "step_three": [RECOVERED]}),
    # Inside the transaction: its row rolled back with the process, so it is written once, by recovery.
    CrashPoint("in-transaction", 1, {"step_one": [KILLED], "transaction": [RECOVERED], "step_three": [RECOVERED]}),
    CrashPoint("after-transaction", 2, {"step_one": [KILLED], "transaction": [KILLED], "step_three": [RECOVERED]}),
    # Every step checkpointed, the outcome not recorded: recovery replays all and runs nothing.
    CrashPoint("after-step-three", 3, {"step_one": [KILLED], "transaction": [KILLED], "step_three": [KILLED]}),
]


@pytest.mark.parametrize("crash", CRASH_POINTS, ids=lambda c: c.point)
def test_a_killed_workflow_is_finished_by_a_fresh_process_running_committed_steps_once(
    workers: Workers, crash: CrashPoint
) -> None:
    workflow_id = f"crash-{crash.point}"
    killed = workers.run_until("steps", workflow_id, crash.point)
    workers.kill(killed)

    # What the dead process left behind: a PENDING workflow with the committed prefix of its steps.
    assert status_of(workflow_id).status == "PENDING"
    assert step_names(workflow_id) == STEPS[: crash.checkpointed]
    before = {key: [who for who in ran if who == KILLED] for key, ran in crash.ran_by.items()}
    pids = {KILLED: killed.pid}
    assert executions(workflow_id) == {key: [pids[w] for w in ran] for key, ran in before.items() if ran}

    printed = workers.recover(workflow_id)
    pids[RECOVERED] = printed["pid"]

    assert printed["result"] == STEPS_RESULT
    status = status_of(workflow_id)
    assert (status.status, status.output, status.recovery_attempts) == ("SUCCESS", STEPS_RESULT, 2)
    assert status.executor_id == "local"
    assert step_names(workflow_id) == STEPS
    assert executions(workflow_id) == {key: [pids[w] for w in ran] for key, ran in crash.ran_by.items()}


def test_a_workflow_killed_while_sleeping_sleeps_only_until_its_recorded_wake_up(workers: Workers) -> None:
    workflow_id = "crash-sleep"
    proc = workers.start("run", "sleep", workflow_id)
    # The sleep's checkpoint (its wake-up time) commits before the process starts sleeping.
    wait_for(lambda: "DBOS.sleep" in step_names(workflow_id) or proc.poll() is not None, timeout=START_TIMEOUT)
    workers.kill(proc)
    assert "after_sleep" not in executions(workflow_id), f"killed too late, the sleep was over: {workers.output(proc)}"
    assert step_names(workflow_id) == ["now_ms", "DBOS.sleep"]
    wake_up_ms = step_named(workflow_id, "DBOS.sleep")["output"]
    assert isinstance(wake_up_ms, int)

    # Let half the sleep pass (a deliberate wait, not a synchronisation): a sleep started afresh
    # would then overrun the recorded wake-up by a second or more.
    half_way = wake_up_ms / 1000 - SLEEP_SECONDS / 2
    time.sleep(max(0.0, half_way - time.time()))
    printed = workers.recover(workflow_id)

    status = status_of(workflow_id)
    assert (status.status, status.recovery_attempts) == ("SUCCESS", 2)
    assert step_names(workflow_id) == ["now_ms", "DBOS.sleep", "now_ms"]
    assert step_named(workflow_id, "DBOS.sleep")["output"] == wake_up_ms  # the recorded wake-up was kept
    woke_at_ms = DBOS.list_workflow_steps(workflow_id)[2]["started_at_epoch_ms"]
    assert woke_at_ms is not None and woke_at_ms >= wake_up_ms  # the wake-up time is respected...
    assert woke_at_ms - printed["launched_at_ms"] < SLEEP_SECONDS * 1000  # ...and the sleep did not restart
    assert printed["result"] == status.output >= SLEEP_SECONDS * 1000
    assert {key: len(pids) for key, pids in executions(workflow_id).items()} == {"before_sleep": 1, "after_sleep": 1}


def test_a_process_with_another_executor_id_does_not_recover_the_killed_workflow(workers: Workers) -> None:
    # Two killed workflows: "mine" of the local executor, then "theirs" of executor "other". Once
    # "other" has finished "theirs", its launch recovery is done: had it taken other executors'
    # work, "mine" would no longer be PENDING on its first attempt.
    mine = workers.run_until("steps", "crash-local", "after-step-one")
    theirs = workers.run_until("steps", "crash-other", "after-step-one", executor_id="other")
    workers.kill(mine)
    workers.kill(theirs)

    assert workers.recover("crash-other", executor_id="other")["result"] == STEPS_RESULT
    assert (status_of("crash-other").status, status_of("crash-other").recovery_attempts) == ("SUCCESS", 2)

    status = status_of("crash-local")
    assert (status.status, status.executor_id, status.recovery_attempts) == ("PENDING", "local", 1)
    assert step_names("crash-local") == ["step_one"]
    assert executions("crash-local") == {"step_one": [mine.pid]}


def _left_behind(workflow_id: str) -> dict[str, Any]:
    """What a dead process left of a workflow, without ids, times or the application version."""
    row = Workflow.objects.get(workflow_id=workflow_id)
    return {
        "status": row.status, "executor_id": row.executor_id, "recovery_attempts": row.recovery_attempts,
        "output": row.output, "error": row.error, "owner_epoch": row.owner_epoch,
        "steps": [(s.function_id, s.function_name, s.output, s.error) for s in
                  StepOutput.objects.filter(workflow_id=workflow_id).order_by("function_id")],
        "side_effects": sorted(k.split(":", 1)[1] for k in
                               SideEffect.objects.filter(key__startswith=f"{workflow_id}:").values_list("key", flat=True)),
    }  # fmt: skip


@pytest.mark.parametrize(("point", "after_step"), [("after-step-one", 1), ("after-transaction", 2)])
def test_simulate_crash_leaves_the_database_as_a_real_sigkill_does(
    workers: Workers, point: str, after_step: int, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dbos_django import testing
    from tests import crash_worker

    # One version for the worker and this process, so that either may recover the other's workflows.
    monkeypatch.setenv("DBOS_TEST_APPLICATION_VERSION", "crash-comparison")
    settings.DBOS = {**settings.DBOS, "APPLICATION_VERSION": "crash-comparison"}
    runtime = testing.launch()
    try:
        workers.kill(workers.run_until("steps", "real-kill", point))
        runtime.simulate_crash(crash_worker.steps_workflow, crash_worker.STEPS_INPUT, after_step=after_step,
                               workflow_id="simulated-kill")  # fmt: skip
        assert _left_behind("simulated-kill") == _left_behind("real-kill")
        assert runtime.recover() == 2  # as a fresh process with this executor id: both resume
    finally:
        testing.destroy()
    assert DBOS.get_result("real-kill") == DBOS.get_result("simulated-kill") == STEPS_RESULT
    assert _left_behind("simulated-kill") == _left_behind("real-kill")
