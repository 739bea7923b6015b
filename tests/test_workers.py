"""Worker processes: ``manage.py dbos_worker`` children share queues, limits, failures and shutdowns.

The workers run the workflows of ``tests/app/workflows.py`` (autodiscovered in every process).
The test process only enqueues (it launches no runtime, so it never runs queued work itself) and
looks at the database: the workflow rows, their checkpoints, and the ``BodyRun`` rows that every
workflow or step body writes with the pid of the process that ran it.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import F
from pytest_django import Settings

from dbos_django import DBOS, Queue, SetEnqueueOptions, SetWorkflowID
from dbos_django.conf import get as get_settings
from dbos_django.engine import runtime as rt
from dbos_django.models import Executor, Workflow
from dbos_django.serialization import DefaultSerializer
from dbos_django.storage.queues import INTERNAL_QUEUE
from tests.app import workflows as app
from tests.app.models import BodyRun
from tests.conftest import PYTHON, ROOT, subprocess_env, wait_for

START_TIMEOUT = 60.0  # a process start (Django setup, launch) on a busy two-core machine
DRAIN_TIMEOUT = 120.0
HEARTBEAT = 1.0
WORKER_TIMEOUT = 6.0
#: Children beat every second and give up on a silent worker after six.
FAST_HEARTBEAT = {"DBOS_TEST_HEARTBEAT": str(HEARTBEAT), "DBOS_TEST_WORKER_TIMEOUT": str(WORKER_TIMEOUT)}

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


@dataclass(slots=True)
class Workers:
    """The ``dbos_worker`` processes of one test, each logging to its own files; all killed at the end."""

    directory: Path
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        name = f"worker-{len(self.procs)}"
        with open(self.directory / f"{name}.out", "w") as out, open(self.directory / f"{name}.err", "w") as err:
            proc = subprocess.Popen([PYTHON, "manage.py", "dbos_worker", *args], cwd=ROOT, text=True,
                                    env=env or subprocess_env(DBOS_LOG_LEVEL="INFO"), stdout=out, stderr=err)  # fmt: skip
        self.procs.append(proc)
        return proc

    def stderr(self, proc: subprocess.Popen[str]) -> str:
        return (self.directory / f"worker-{self.procs.index(proc)}.err").read_text()

    def report(self) -> str:
        """Every worker's exit code and the end of its log: the failure message when something hangs."""
        return "\n".join(f"--- {proc.pid} (exit code {proc.returncode})\n{self.stderr(proc)[-4000:]}"
                         for proc in self.procs)  # fmt: skip

    def wait(self, predicate: Callable[[], object], timeout: float, what: str) -> None:
        try:
            wait_for(predicate, timeout=timeout, interval=0.05)
        except AssertionError:
            raise AssertionError(f"{what}: not within {timeout}s\n{self.report()}") from None

    def ready(self, *procs: subprocess.Popen[str]) -> None:
        """Wait until each worker serves its queues (its runtime is launched)."""
        for proc in procs:
            self.wait(functools.partial(self._serving_or_exited, proc), START_TIMEOUT, f"worker {proc.pid} serving")
            assert proc.poll() is None, f"worker {proc.pid} exited at start\n{self.report()}"

    def _serving_or_exited(self, proc: subprocess.Popen[str]) -> bool:
        return "dbos_worker" in self.stderr(proc) or proc.poll() is not None

    def exit_code(self, proc: subprocess.Popen[str], timeout: float) -> int:
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"worker {proc.pid} still running after {timeout}s\n{self.report()}") from None

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a paused worker too
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(tmp_path)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def gates(tmp_path: Path) -> Path:
    """The folder of ``gated_workflow``'s gates: a gate opens when the test creates its file."""
    path = tmp_path / "gates"
    path.mkdir()
    return path


def open_gate(gates: Path, name: str) -> None:
    (gates / name).touch()


def enqueue_many(queue: Queue, count: int, seconds: float = 0.0) -> list[str]:
    return [queue.enqueue(app.hold, seconds).workflow_id for _ in range(count)]


def status_of(workflow_id: str) -> str:
    return Workflow.objects.get(workflow_id=workflow_id).status


def successes(queue_name: str) -> int:
    return Workflow.objects.filter(queue_name=queue_name, status="SUCCESS").count()


def body_intervals(queue_name: str) -> list[tuple[float, float]]:
    ids = Workflow.objects.filter(queue_name=queue_name).values_list("workflow_id", flat=True)
    runs = BodyRun.objects.filter(workflow_id__in=list(ids), step="")
    return [(run.started, run.ended or run.started) for run in runs]


def peak_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals running at one instant (one that ends as another starts does not overlap it)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = running = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def runs_of(workflow_id: str) -> dict[str, list[int]]:
    """Step name -> pids of the processes that ran its body, one per execution, in order."""
    found: dict[str, list[int]] = {}
    for run in BodyRun.objects.filter(workflow_id=workflow_id).order_by("id"):
        found.setdefault(run.step, []).append(run.pid)
    return found


def checkpoint_outputs(workflow_id: str) -> list[object]:
    return [step["output"] for step in DBOS.list_workflow_steps(workflow_id)]


def pause(proc: subprocess.Popen[str]) -> None:
    """SIGSTOP a worker at a moment it holds no database lock (else nobody could take over from it)."""
    for _ in range(50):
        proc.send_signal(signal.SIGSTOP)
        time.sleep(0.2)  # statements already sent finish on the server
        if not _locks_held():
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError("the worker always held a database lock")


def _locks_held() -> bool:
    if connection.vendor == "sqlite":
        probe = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.2)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE %s AND pid <> pg_backend_pid()", ["idle in transaction%"])  # fmt: skip
        return bool(cur.fetchone()[0])


# Three workers share one queue and its limits (PostgreSQL: the scale these numbers need).


@on_postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_three_workers_drain_a_thousand_workflows_running_each_body_once(workers: Workers) -> None:
    ids = enqueue_many(app.drain, 1000)
    procs = [workers.start("--queue", app.drain.name, "--concurrency", "8") for _ in range(3)]
    workers.wait(lambda: successes(app.drain.name) == 1000, DRAIN_TIMEOUT, "1000 workflows SUCCESS")

    assert Counter(Workflow.objects.filter(workflow_id__in=ids).values_list("status", flat=True)) == {"SUCCESS": 1000}
    runs = Counter(BodyRun.objects.filter(workflow_id__in=ids).values_list("workflow_id", flat=True))
    assert set(runs) == set(ids)
    assert {wid: n for wid, n in runs.items() if n != 1} == {}
    by_worker = Counter(BodyRun.objects.filter(workflow_id__in=ids).values_list("pid", flat=True))
    assert set(by_worker) == {proc.pid for proc in procs}, by_worker  # every worker took a share


@on_postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_global_concurrency_of_two_holds_across_three_workers(workers: Workers) -> None:
    # Many short workflows, so that workers often claim at the same moment.
    # All three up before the work arrives: on a loaded machine the first could otherwise finish it alone.
    workers.ready(*[workers.start("--queue", app.pair.name, "--concurrency", "4") for _ in range(3)])
    enqueue_many(app.pair, 100, seconds=0.02)
    workers.wait(lambda: successes(app.pair.name) == 100, DRAIN_TIMEOUT, "100 workflows SUCCESS")

    intervals = body_intervals(app.pair.name)
    assert len(intervals) == 100
    assert peak_overlap(intervals) == 2
    assert len(set(BodyRun.objects.values_list("pid", flat=True))) > 1  # the limit was shared, not one worker's


@on_postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_rate_limit_of_n_per_period_holds_across_three_workers(workers: Workers) -> None:
    limit, period_ms = 5, 500  # app.rated
    enqueue_many(app.rated, 60)
    [workers.start("--queue", app.rated.name) for _ in range(3)]
    workers.wait(lambda: successes(app.rated.name) == 60, DRAIN_TIMEOUT, "60 workflows SUCCESS")

    starts = sorted(Workflow.objects.filter(queue_name=app.rated.name).values_list("started_at", flat=True))
    for i in range(len(starts) - limit):
        assert starts[i + limit] - starts[i] >= period_ms, starts  # never limit + 1 starts within one period


@on_postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_partitions_run_in_parallel_across_workers_each_within_its_own_limit(workers: Workers) -> None:
    partitions = [f"user-{i}" for i in range(4)]
    partition_of: dict[str, str] = {}
    for i in range(60):
        with SetEnqueueOptions(queue_partition_key=partitions[i % 4]):
            partition_of[app.by_user.enqueue(app.hold, 0.02).workflow_id] = partitions[i % 4]
    [workers.start("--queue", app.by_user.name, "--concurrency", "4") for _ in range(3)]
    workers.wait(lambda: successes(app.by_user.name) == 60, DRAIN_TIMEOUT, "60 workflows SUCCESS")

    runs = list(BodyRun.objects.filter(workflow_id__in=list(partition_of)))
    for partition in partitions:
        own = [(r.started, r.ended or r.started) for r in runs if partition_of[r.workflow_id] == partition]
        assert len(own) == 15
        assert peak_overlap(own) == 1, partition
    assert peak_overlap([(r.started, r.ended or r.started) for r in runs]) > 1


@on_postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_priority_then_age_orders_the_start_in_a_worker(workers: Workers) -> None:
    for tag, priority in [("p5", 5), ("p1-old", 1), ("none", None), ("p1-new", 1), ("p3", 3)]:
        with SetEnqueueOptions(priority=priority), SetWorkflowID(tag):
            app.serial.enqueue(app.hold, 0.0)
    workers.start("--queue", app.serial.name, "--concurrency", "1")
    workers.wait(lambda: successes(app.serial.name) == 5, DRAIN_TIMEOUT, "5 workflows SUCCESS")

    order = list(BodyRun.objects.order_by("started").values_list("workflow_id", flat=True))
    assert order == ["none", "p1-old", "p1-new", "p3", "p5"]


# A worker dies: the survivor takes its work over once its heartbeat is older than the worker timeout.


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_workers_workflows_are_finished_by_the_survivor_without_rerunning_checkpointed_steps(
    workers: Workers,
) -> None:
    env = subprocess_env(DBOS_LOG_LEVEL="INFO", **FAST_HEARTBEAT)
    concurrency = 4
    options = ("--queue", app.steps.name, "--concurrency", str(concurrency))
    doomed = workers.start(*options, "--executor-id", "doomed", env=env)
    survivor = workers.start(*options, "--executor-id", "survivor", env=env)
    workers.ready(doomed, survivor)
    ids = [app.steps.enqueue(app.three_recorded_steps, 0.03).workflow_id for _ in range(200)]

    def doomed_is_busy() -> bool:
        return successes(app.steps.name) >= 40 and Workflow.objects.filter(executor_id="doomed", status="PENDING").exists()

    workers.wait(doomed_is_busy, DRAIN_TIMEOUT, "the doomed worker running workflows")
    doomed.kill()
    doomed.wait(timeout=30)
    orphans = set(Workflow.objects.filter(executor_id="doomed", status="PENDING").values_list("workflow_id", flat=True))
    last_beat_ms = Executor.objects.get(executor_id="doomed").heartbeat_at
    assert orphans

    workers.wait(lambda: not Workflow.objects.filter(executor_id="doomed", status="PENDING").exists(),
                 WORKER_TIMEOUT + 30, "the doomed worker's workflows re-enqueued")  # fmt: skip
    taken_over_ms = time.time() * 1000
    workers.wait(lambda: successes(app.steps.name) == 200, DRAIN_TIMEOUT, "200 workflows SUCCESS")

    # Taken over once the heartbeat was older than the timeout, and no later than one more beat after it.
    assert taken_over_ms - last_beat_ms >= WORKER_TIMEOUT * 1000
    assert taken_over_ms - last_beat_ms <= (WORKER_TIMEOUT + 2 * HEARTBEAT) * 1000 + 3000
    assert "pending workflows of dead executor(s) doomed re-enqueued" in workers.stderr(survivor)
    assert set(Workflow.objects.filter(workflow_id__in=orphans).values_list("executor_id", flat=True)) == {"survivor"}

    doubled = 0
    for workflow_id in ids:
        status = DBOS.get_workflow_status(workflow_id)
        assert status is not None and status.status == "SUCCESS"
        checkpoints = checkpoint_outputs(workflow_id)
        assert status.output == checkpoints
        runs = runs_of(workflow_id)
        assert list(runs) == list(app.STEP_NAMES), runs
        for name, checkpointed_by in zip(app.STEP_NAMES, checkpoints, strict=True):
            ran_by = runs[name]
            # A step ran once, by the process whose checkpoint committed; or twice when the killed worker
            # was cut off between its side effect and its checkpoint, and the survivor ran it again.
            assert ran_by[-1] == checkpointed_by, (workflow_id, name, runs)
            assert ran_by in ([checkpointed_by], [doomed.pid, survivor.pid]), (workflow_id, name, runs)
            doubled += len(ran_by) - 1
    assert doubled <= concurrency  # at most the steps running in the killed worker at the kill


# SQLite: several processes on one database file.


@on_sqlite
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_sqlite_file_drain_the_queue_without_lock_errors(workers: Workers) -> None:
    ids = enqueue_many(app.drain, 200)
    procs = [workers.start("--queue", app.drain.name, "--concurrency", "8") for _ in range(2)]
    workers.wait(lambda: successes(app.drain.name) == 200, DRAIN_TIMEOUT, "200 workflows SUCCESS")

    assert Counter(Workflow.objects.filter(workflow_id__in=ids).values_list("status", flat=True)) == {"SUCCESS": 200}
    assert Counter(BodyRun.objects.values_list("workflow_id", flat=True)) == Counter(ids)
    for proc in procs:
        assert "database is locked" not in workers.stderr(proc)
        assert "Traceback" not in workers.stderr(proc)


# Fencing: a paused worker that comes back finds its workflow taken over and writes nothing over it.


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("resumed", ["after the new owner finished", "while the new owner runs"])
def test_a_paused_worker_resumed_after_a_takeover_records_nothing_over_the_new_owner(
    workers: Workers, gates: Path, resumed: str
) -> None:
    env = subprocess_env(DBOS_LOG_LEVEL="INFO", **FAST_HEARTBEAT)
    options = ("--queue", app.gated.name, "--concurrency", "2")
    first = workers.start(*options, "--executor-id", "first", env=env)
    workers.ready(first)
    with SetWorkflowID("fenced"):
        app.gated.enqueue(app.gated_workflow, str(gates))
    workers.wait(lambda: runs_of("fenced").get("one") == [first.pid], START_TIMEOUT, "the first worker at gate one")
    pause(first)

    second = workers.start(*options, "--executor-id", "second", env=env)
    workers.wait(lambda: runs_of("fenced").get("one") == [first.pid, second.pid], WORKER_TIMEOUT + START_TIMEOUT,
                 "the second worker at gate one")  # fmt: skip
    row = Workflow.objects.get(workflow_id="fenced")
    assert (row.status, row.executor_id, row.owner_epoch) == ("PENDING", "second", 2)
    assert checkpoint_outputs("fenced") == [first.pid]  # step "first" is replayed, not run again

    if resumed == "while the new owner runs":
        first.send_signal(signal.SIGCONT)
        # Let the first worker alone past gate one while the second waits there: its checkpoint is refused.
        open_gate(gates, f"one.{first.pid}")
        workers.wait(lambda: "fenced" in _stopped_lines(workers.stderr(first)) or "two" in runs_of("fenced"),
                     START_TIMEOUT, "the first worker fenced off")  # fmt: skip
        assert "two" not in runs_of("fenced")  # the fenced-off execution went no further
        assert checkpoint_outputs("fenced") == [first.pid]
        assert status_of("fenced") == "PENDING"
        open_gate(gates, "one")
        open_gate(gates, "two")
        workers.wait(lambda: status_of("fenced") == "SUCCESS", START_TIMEOUT, "SUCCESS")
    else:
        open_gate(gates, "one")
        open_gate(gates, "two")
        workers.wait(lambda: status_of("fenced") == "SUCCESS", START_TIMEOUT, "SUCCESS")
        first.send_signal(signal.SIGCONT)
        workers.wait(lambda: "fenced" in _stopped_lines(workers.stderr(first)), START_TIMEOUT, "the first worker fenced off")

    expected = [first.pid, second.pid, second.pid]
    status = DBOS.get_workflow_status("fenced")
    assert status is not None
    assert (status.status, status.output, status.executor_id) == ("SUCCESS", expected, "second")
    assert checkpoint_outputs("fenced") == expected
    assert runs_of("fenced") == {"first": [first.pid], "one": [first.pid, second.pid], "two": [second.pid]}
    assert first.poll() is None, workers.report()
    assert "Traceback" not in workers.stderr(first)

    # The first worker still serves its queue.
    second.terminate()
    assert workers.exit_code(second, 60) == 0
    handle = app.gated.enqueue(app.gated_workflow, str(gates))
    workers.wait(lambda: status_of(handle.workflow_id) == "SUCCESS", START_TIMEOUT, "SUCCESS in the first worker")
    assert handle.get_result() == [first.pid] * 3


def _stopped_lines(log: str) -> str:
    """The dispatcher's lines about workflows it stopped because another execution owns them."""
    return "\n".join(line for line in log.splitlines() if "stopped: cancelled or taken over" in line)


# The command line: --burst, --queue, SIGTERM and --grace-period.


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_burst_worker_exits_0_once_no_work_is_left(workers: Workers) -> None:
    ids = enqueue_many(app.drain, 20)
    proc = workers.start("--queue", app.drain.name, "--burst")
    assert workers.exit_code(proc, DRAIN_TIMEOUT) == 0, workers.report()
    assert Counter(Workflow.objects.filter(workflow_id__in=ids).values_list("status", flat=True)) == {"SUCCESS": 20}
    assert set(BodyRun.objects.values_list("pid", flat=True)) == {proc.pid}
    assert not Executor.objects.exists()  # its heartbeat row went with it


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_serves_only_the_queues_it_is_given(workers: Workers) -> None:
    served = enqueue_many(app.drain, 3)
    (other,) = enqueue_many(app.pair, 1)
    proc = workers.start("--queue", app.drain.name, "--burst")
    assert workers.exit_code(proc, DRAIN_TIMEOUT) == 0, workers.report()
    assert set(Workflow.objects.filter(workflow_id__in=served).values_list("status", flat=True)) == {"SUCCESS"}
    assert status_of(other) == "ENQUEUED"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigterm_lets_the_running_workflow_finish_within_the_grace_period_and_claims_nothing_new(
    workers: Workers, gates: Path
) -> None:
    proc = workers.start("--queue", app.gated.name, "--concurrency", "1", "--grace-period", "60")
    workers.ready(proc)
    running = app.gated.enqueue(app.gated_workflow, str(gates)).workflow_id
    workers.wait(lambda: "one" in runs_of(running), START_TIMEOUT, "the workflow at gate one")
    waiting = app.gated.enqueue(app.hold, 0.0).workflow_id  # no free thread: it stays in the queue

    proc.terminate()
    workers.wait(lambda: "Received SIGTERM" in workers.stderr(proc), START_TIMEOUT, "SIGTERM logged")
    time.sleep(0.5)
    open_gate(gates, "one")
    open_gate(gates, "two")
    assert workers.exit_code(proc, 60) == 0, workers.report()

    status = DBOS.get_workflow_status(running)
    assert status is not None and (status.status, status.output) == ("SUCCESS", [proc.pid] * 3)
    assert status_of(waiting) == "ENQUEUED"
    assert waiting not in BodyRun.objects.values_list("workflow_id", flat=True)
    assert "Grace period over" not in workers.stderr(proc)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_workflow_still_running_after_the_grace_period_is_re_enqueued_and_finished_by_another_worker(
    workers: Workers, gates: Path
) -> None:
    stopping = workers.start("--queue", app.gated.name, "--grace-period", "1", "--executor-id", "stopping")
    workers.ready(stopping)
    workflow_id = app.gated.enqueue(app.gated_workflow, str(gates)).workflow_id
    workers.wait(lambda: "one" in runs_of(workflow_id), START_TIMEOUT, "the workflow at gate one")

    stopping.terminate()
    assert workers.exit_code(stopping, 30) == 0
    assert "Grace period over: 1 workflows still running were re-enqueued" in workers.stderr(stopping)
    row = Workflow.objects.get(workflow_id=workflow_id)
    assert (row.status, row.queue_name) == ("ENQUEUED", app.gated.name)
    assert not Executor.objects.filter(executor_id="stopping").exists()

    open_gate(gates, "one")
    open_gate(gates, "two")
    other = workers.start("--queue", app.gated.name, "--executor-id", "other")
    workers.wait(lambda: status_of(workflow_id) == "SUCCESS", START_TIMEOUT, "SUCCESS")
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None
    assert (status.output, status.executor_id) == ([stopping.pid, other.pid, other.pid], "other")
    assert runs_of(workflow_id) == {"first": [stopping.pid], "one": [stopping.pid, other.pid], "two": [other.pid]}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigterm_lets_a_running_async_workflow_finish_within_the_grace_period(workers: Workers) -> None:
    proc = workers.start("--queue", app.drain.name, "--grace-period", "60")
    workers.ready(proc)
    workflow_id = app.drain.enqueue(app.hold_async, 2.0).workflow_id  # on the worker's event loop, not a pool thread
    workers.wait(lambda: status_of(workflow_id) == "PENDING", START_TIMEOUT, "claimed")

    proc.terminate()
    assert workers.exit_code(proc, 60) == 0
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None and (status.status, status.output) == ("SUCCESS", proc.pid), workers.report()


@pytest.mark.slow
def test_a_worker_waits_for_an_unreachable_database_saying_so(workers: Workers) -> None:
    env = subprocess_env(DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable")
    env.pop("DBOS_USE_TEST_DB")
    proc = workers.start("--queue", app.drain.name, env=env)
    workers.wait(lambda: "Waiting for database 'default'" in workers.stderr(proc), 20, "the waiting line")
    time.sleep(2.5)  # and it keeps trying
    assert proc.poll() is None, workers.report()
    assert workers.stderr(proc).count("Waiting for database") == 1  # said once, not at every attempt


# In one process: what the worker processes rely on, checked fast.

partition_serial = Queue("workers-partition-serial", partition_worker_concurrency=1, polling_interval_sec=0.05)
partition_rated = Queue("workers-partition-rated", partition_limiter={"limit": 1, "period": 0.3}, polling_interval_sec=0.05)


def _enqueue_per_partition(queue: Queue, seconds: float) -> dict[str, str]:
    """Three workflows in each of two partitions; return workflow id -> partition."""
    partition_of: dict[str, str] = {}
    for i in range(6):
        with SetEnqueueOptions(queue_partition_key=f"p{i % 2}"):
            partition_of[queue.enqueue(app.hold, seconds).workflow_id] = f"p{i % 2}"
    return partition_of


def test_partition_worker_concurrency_bounds_each_partition_in_a_process(dbos: type[DBOS]) -> None:
    partition_of = _enqueue_per_partition(partition_serial, 0.1)
    for workflow_id in partition_of:
        DBOS.retrieve_workflow(workflow_id).get_result()
    runs = list(BodyRun.objects.all())
    for partition in ("p0", "p1"):
        assert peak_overlap([(r.started, r.ended or r.started) for r in runs if partition_of[r.workflow_id] == partition]) == 1
    assert peak_overlap([(r.started, r.ended or r.started) for r in runs]) == 2


def test_a_partition_rate_limit_spaces_the_starts_of_each_partition_only(dbos: type[DBOS]) -> None:
    partition_of = _enqueue_per_partition(partition_rated, 0.0)
    for workflow_id in partition_of:
        DBOS.retrieve_workflow(workflow_id).get_result()
    started = dict(Workflow.objects.filter(workflow_id__in=list(partition_of)).values_list("workflow_id", "started_at"))
    for partition in ("p0", "p1"):
        starts = sorted(started[w] for w, p in partition_of.items() if p == partition)
        assert all(later - earlier >= 300 for earlier, later in itertools.pairwise(starts)), starts
    first_of = {p: min(started[w] for w, q in partition_of.items() if q == p) for p in ("p0", "p1")}
    assert abs(first_of["p0"] - first_of["p1"]) < 300  # the other partition did not wait


def _pending(workflow_id: str, executor_id: str, *, queue_name: str | None) -> None:
    """A PENDING row as a worker leaves it while running ``hold(0)``."""
    serializer = DefaultSerializer()
    Workflow.objects.create(
        workflow_id=workflow_id, status="PENDING", name="hold", inputs=serializer.serialize({"args": [0.0], "kwargs": {}}),
        serialization=serializer.name(), executor_id=executor_id, application_name=get_settings().application_name,
        created_at=1, updated_at=1, started_at=1, recovery_attempts=1, owner_epoch=1, queue_name=queue_name,
    )  # fmt: skip


def _executor(executor_id: str, heartbeat_at: int) -> None:
    Executor.objects.create(executor_id=executor_id, started_at=heartbeat_at, heartbeat_at=heartbeat_at)


def test_a_heartbeat_takes_over_only_the_work_of_executors_silent_past_the_worker_timeout(dbos: type[DBOS]) -> None:
    now_ms = int(time.time() * 1000)
    _executor("silent", now_ms - int(get_settings().worker_timeout * 1000) - 1000)
    _executor("alive", now_ms)
    _pending("silent-queued", "silent", queue_name=app.drain.name)
    _pending("silent-direct", "silent", queue_name=None)  # started without a queue: recovered through the internal one
    _pending("alive-queued", "alive", queue_name=app.drain.name)

    heartbeat = rt.current().heartbeat
    assert heartbeat is not None
    heartbeat.take_over_dead()
    for workflow_id in ("silent-queued", "silent-direct"):
        assert DBOS.retrieve_workflow(workflow_id).get_result() == os.getpid()

    rows = {row.workflow_id: row for row in Workflow.objects.all()}
    assert {w: (r.status, r.executor_id, r.queue_name, r.owner_epoch) for w, r in rows.items()} == {
        "silent-queued": ("SUCCESS", DBOS.executor_id, app.drain.name, 2),
        "silent-direct": ("SUCCESS", DBOS.executor_id, INTERNAL_QUEUE, 2),
        "alive-queued": ("PENDING", "alive", app.drain.name, 1),
    }
    assert set(Executor.objects.values_list("executor_id", flat=True)) == {"alive", DBOS.executor_id}
    assert not BodyRun.objects.filter(workflow_id="alive-queued").exists()


def test_an_execution_whose_workflow_was_claimed_by_another_owner_checkpoints_nothing_more(
    dbos: type[DBOS], gates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dbos_django")
    with SetWorkflowID("taken"):
        app.gated.enqueue(app.gated_workflow, str(gates))
    wait_for(lambda: "one" in runs_of("taken"))
    # What a takeover does to the row: another executor, the next epoch.
    Workflow.objects.filter(workflow_id="taken").update(executor_id="thief", owner_epoch=F("owner_epoch") + 1)
    open_gate(gates, "one")
    wait_for(lambda: "stopped: cancelled or taken over" in caplog.text)

    assert checkpoint_outputs("taken") == [os.getpid()]  # step "first" only: step "one" was refused
    row = Workflow.objects.get(workflow_id="taken")
    assert (row.status, row.executor_id, row.output) == ("PENDING", "thief", None)
    assert "two" not in runs_of("taken")


def test_max_threads_bounds_the_async_workflows_a_process_takes_from_queues_too(
    transactional_db: None, settings: Settings
) -> None:
    # The worker's --concurrency: what it does not run stays in the database, for other workers.
    settings.DBOS = {**settings.DBOS, "MAX_THREADS": 2}
    ids = [app.drain.enqueue(app.hold_async, 0.2).workflow_id for _ in range(6)]
    DBOS.launch()
    try:
        for workflow_id in ids:
            DBOS.retrieve_workflow(workflow_id).get_result()
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=10)
    assert peak_overlap([(r.started, r.ended or r.started) for r in BodyRun.objects.all()]) == 2
