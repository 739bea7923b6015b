"""A workflow whose code was removed or renamed: found during recovery or dequeue, it ends in ERROR with an error
that names what is missing and what to do, instead of staying PENDING (claimed again at every restart) or
stopping the worker. In process (testing mode and a live runtime) and in a real ``dbos_worker`` process.
"""

from __future__ import annotations

import base64
import pickle
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings

from dbos_django import DBOS, DBOSClient, DBOSConfiguredInstance, Queue
from dbos_django.engine import unrunnable
from dbos_django.engine.registry import registry
from dbos_django.error import DBOSSerializationError, DBOSWorkflowFunctionNotFoundError
from dbos_django.models import TERMINAL_STATUSES, Workflow
from dbos_django.storage.records import ClaimedWorkflow
from tests.app import workflows as app
from tests.conftest import PYTHON, ROOT, subprocess_env, wait_for

missing_code_queue = Queue("test-missing-code", polling_interval_sec=0.05)
WORKER_VERSION = "missing-code-v1"
WORKER_TIMEOUT = 120.0  # a worker process on a busy two-core machine: start, recover, drain, exit


@DBOS.workflow()
def still_here(value: Any) -> Any:
    return value


@DBOS.dbos_class()
class Registered(DBOSConfiguredInstance):
    @DBOS.workflow()
    def run(self) -> str:
        return self.config_name


class Ephemeral:
    """A class whose pickles are rewritten to name ``Evaporate``, a class no code defines (same length)."""


def pickled(value: object) -> str:
    return "pickle:" + base64.b64encode(pickle.dumps(value, protocol=4)).decode()


def row(workflow_id: str, name: str, *, status: str = "ENQUEUED", queue: str | None = missing_code_queue.name,
        inputs: str = '{"args":[],"kwargs":{}}', **fields: Any) -> Workflow:  # fmt: skip
    """A workflow row as another deployment left it."""
    values = {"serialization": "json+pickle", "application_name": "tests", "created_at": 1, "updated_at": 1, **fields}
    return Workflow.objects.create(workflow_id=workflow_id, status=status, name=name, queue_name=queue,
                                   inputs=inputs, **values)  # fmt: skip


def error_of(workflow_id: str) -> BaseException:
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None and status.status == "ERROR", status
    assert isinstance(status.error, BaseException)
    return status.error


# Dequeue, in process (testing mode: the claim runs in the test's thread)


def test_a_dequeued_workflow_whose_function_was_renamed_ends_in_error_saying_what_to_do(dbos_runtime: Any) -> None:
    row("renamed", "checkout_v1")
    dbos_runtime.drain()
    error = error_of("renamed")
    assert isinstance(error, DBOSWorkflowFunctionNotFoundError)
    assert "no workflow named 'checkout_v1' is registered" in str(error)
    assert "removed or renamed" in str(error) and "restart or fork" in str(error)


def test_a_workflow_ended_for_missing_code_is_not_claimed_again(dbos_runtime: Any) -> None:
    row("renamed-once", "checkout_v1")
    dbos_runtime.drain()
    dbos_runtime.recover()
    dbos_runtime.drain()
    done = Workflow.objects.get(pk="renamed-once")
    assert (done.status, done.recovery_attempts) == ("ERROR", 1)


def test_a_workflow_whose_class_was_removed_ends_in_error_naming_it(dbos_runtime: Any) -> None:
    row("no-class", still_here.__qualname__, class_name="RemovedClass")
    dbos_runtime.drain()
    assert "no class RemovedClass is registered" in str(error_of("no-class"))


def test_a_workflow_whose_instance_is_not_registered_ends_in_error_naming_it(dbos_runtime: Any) -> None:
    row("no-instance", Registered.run.__qualname__, class_name="Registered", config_name="nobody")
    dbos_runtime.drain()
    assert "no instance Registered/nobody is registered" in str(error_of("no-instance"))


def test_a_workflow_whose_inputs_use_a_removed_class_ends_in_error(dbos_runtime: Any) -> None:
    text = pickled({"args": [Ephemeral()], "kwargs": {}})
    vanished = base64.b64encode(base64.b64decode(text[7:]).replace(b"Ephemeral", b"Evaporate")).decode()
    row("gone-input", still_here.__qualname__, inputs="pickle:" + vanished)
    dbos_runtime.drain()
    error = error_of("gone-input")
    assert isinstance(error, DBOSSerializationError)
    assert "Cannot read the stored inputs of workflow gone-input" in str(error) and "Evaporate" in str(error)


def test_a_workflow_stored_by_another_serializer_ends_in_error_naming_it(dbos_runtime: Any) -> None:
    row("other-format", still_here.__qualname__, serialization="msgpack")
    dbos_runtime.drain()
    assert "stored with serializer 'msgpack'" in str(error_of("other-format"))


def test_nothing_is_declared_missing_before_every_app_has_run_its_ready(db: None) -> None:
    """A runtime launched from an early AppConfig.ready(): a later app registers its workflows after the claim."""
    claimed = ClaimedWorkflow("w", "registered-late", None, None, None, None, 1, None)
    apps.ready = False
    apps.ready_event.clear()

    def later_app_ready() -> None:
        time.sleep(0.2)
        DBOS.workflow(name="registered-late")(still_here.__wrapped__)  # type: ignore[attr-defined]
        apps.ready = True
        apps.ready_event.set()

    thread = threading.Thread(target=later_app_ready)
    thread.start()
    try:
        info = unrunnable.workflow_for(claimed)
    finally:
        thread.join()
        apps.ready = True
        apps.ready_event.set()
        registry.workflows.pop("registered-late", None)
    assert info is not None and info.name == "registered-late"


# Recovery and dequeue with a live runtime


@pytest.mark.django_db(transaction=True)
def test_recovery_at_launch_ends_a_workflow_whose_function_was_removed(transactional_db: None) -> None:
    row("removed", "refund_v0", status="PENDING", queue=None, executor_id="local",
        application_version=DBOS.application_version, recovery_attempts=1)  # fmt: skip
    DBOS.launch()
    try:
        wait_for(lambda: Workflow.objects.get(pk="removed").status in TERMINAL_STATUSES, timeout=30)
        assert "no workflow named 'refund_v0'" in str(error_of("removed"))
        assert still_here("the runtime carries on") == "the runtime carries on"
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=10)


@pytest.mark.django_db(transaction=True)
def test_the_other_workflows_claimed_with_one_that_cannot_run_still_run(dbos: Any) -> None:
    DBOS.destroy()  # enqueue everything first, so that one claim takes them all
    row("unreadable", still_here.__qualname__, inputs="pickle:bm90IGEgcGlja2xl")
    handles = [missing_code_queue.enqueue(still_here, n) for n in range(3)]
    DBOS.launch()
    assert [h.get_result() for h in handles] == [0, 1, 2]
    assert isinstance(error_of("unreadable"), DBOSSerializationError)


# A real worker process


def _worker(tmp_path: Path, *args: str) -> tuple[Any, Path]:
    import subprocess

    err = tmp_path / "worker.err"
    env = subprocess_env(DBOS_LOG_LEVEL="INFO", DBOS_TEST_APPLICATION_VERSION=WORKER_VERSION)
    with open(tmp_path / "worker.out", "w") as out, open(err, "w") as errors:
        proc = subprocess.Popen([PYTHON, "manage.py", "dbos_worker", "--burst", *args], cwd=ROOT, env=env,
                                stdout=out, stderr=errors, text=True)  # fmt: skip
    return proc, err


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_ends_workflows_whose_code_is_gone_and_keeps_serving_the_others(tmp_path: Path) -> None:
    # Found at recovery: this worker's own PENDING workflow (same executor id and version).
    row("gone-at-recovery", "tests.app.workflows.removed_in_a_deploy", status="PENDING", queue=None,
        executor_id="exec-missing-code", application_version=WORKER_VERSION, recovery_attempts=1)  # fmt: skip
    client = DBOSClient()
    # Found at dequeue: enqueued by name, for a function no code defines any more.
    gone = client.enqueue({"workflow_name": "tests.app.workflows.renamed_away", "queue_name": app.drain.name}, 1)
    served = [app.drain.enqueue(app.hold, 0).workflow_id for _ in range(3)]
    queues = ["--queue", app.drain.name]
    if getattr(settings, "TASKS", None):
        # A Django task whose module nothing imports at start: the worker imports it by its path.
        lazy = client.enqueue({"workflow_name": "tests.app.lazy_tasks.lazy_add", "queue_name": "tasks:default"}, 2, 3)
        served.append(lazy.workflow_id)
        queues += ["--queue", "tasks:default"]
    proc, err = _worker(tmp_path, *queues, "--executor-id", "exec-missing-code")
    try:
        code = proc.wait(timeout=WORKER_TIMEOUT)  # --burst: it exits once nothing is left, so nothing was retried
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = err.read_text()
    assert code == 0, log[-4000:]
    for workflow_id in ("gone-at-recovery", gone.workflow_id):
        error = error_of(workflow_id)
        assert isinstance(error, DBOSWorkflowFunctionNotFoundError), error
        assert "is registered in this process" in str(error) and "restart or fork" in str(error)
    assert {Workflow.objects.get(pk=w).status for w in served} == {"SUCCESS"}
    if getattr(settings, "TASKS", None):
        assert DBOS.get_workflow_status(served[-1]).output == 5  # type: ignore[union-attr]
    assert log.count("cannot run and ended in ERROR") == 2, log[-4000:]
    assert "Traceback" not in log
