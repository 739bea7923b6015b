"""DBOSTaskBackend: Django's task API (django.tasks, or the django-tasks backport) on durable workflows."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

if not settings.TASK_API:
    pytest.skip("Django's task API is missing: Django 6.x, or the django-tasks backport on 5.2", allow_module_level=True)

from dbos_django import DBOS  # noqa: E402
from dbos_django.models import Workflow  # noqa: E402
from dbos_django.tasks.compat import (
    TaskResultDoesNotExist,
    TaskResultStatus,
    task_enqueued,
    task_finished,
    task_started,
)
from tests.app import tasks
from tests.app.models import SideEffect


def test_all_four_capabilities_are_supported():
    backend = tasks.add.get_backend()
    assert (backend.supports_defer, backend.supports_priority, backend.supports_async_task,
            backend.supports_get_result) == (True, True, True, True)  # fmt: skip


@pytest.mark.django_db
def test_enqueue_writes_a_workflow_row_and_returns_a_ready_result(dbos_runtime):
    result = tasks.add.enqueue(2, 3)
    assert result.status == TaskResultStatus.READY
    row = Workflow.objects.get(workflow_id=result.id)
    assert (row.name, row.queue_name, row.status) == ("tests.app.tasks.add", "tasks:default", "ENQUEUED")


@pytest.mark.django_db
def test_the_task_runs_as_a_workflow_and_get_result_reads_it(dbos_runtime):
    result = tasks.add.enqueue(2, 3)
    dbos_runtime.drain()
    fetched = tasks.add.get_result(result.id)
    assert (fetched.status, fetched.return_value, fetched.args) == (TaskResultStatus.SUCCESSFUL, 5, [2, 3])
    assert fetched.enqueued_at <= fetched.started_at <= fetched.finished_at
    assert fetched.attempts == 1 and fetched.worker_ids == ["local"]
    result.refresh()
    assert result.return_value == 5


@pytest.mark.django_db
def test_steps_work_inside_a_task(dbos_runtime):
    result = tasks.uses_steps.enqueue(5)
    dbos_runtime.drain()
    assert tasks.uses_steps.get_result(result.id).return_value == 20
    assert [s["function_name"] for s in DBOS.list_workflow_steps(result.id)] == [tasks.double.__qualname__] * 2


@pytest.mark.django_db
def test_a_failing_task_is_failed_with_its_error(dbos_runtime):
    result = tasks.fails.enqueue("nope")
    dbos_runtime.drain()
    fetched = tasks.fails.get_result(result.id)
    assert fetched.status == TaskResultStatus.FAILED
    assert fetched.errors[0].exception_class is ValueError
    assert "nope" in fetched.errors[0].traceback
    with pytest.raises(ValueError, match="Task failed"):
        fetched.return_value  # noqa: B018


@pytest.mark.django_db
def test_a_cancelled_task_shows_failed_with_a_recognisable_error(dbos_runtime):
    from dbos_django.error import DBOSAwaitedWorkflowCancelledError

    result = tasks.add.enqueue(1, 1)
    DBOS.cancel_workflow(result.id)
    fetched = tasks.add.get_result(result.id)
    assert fetched.status == TaskResultStatus.FAILED
    assert fetched.errors[0].exception_class is DBOSAwaitedWorkflowCancelledError


@pytest.mark.django_db
def test_takes_context_passes_the_attempt(dbos_runtime):
    result = tasks.with_context.enqueue(7)
    dbos_runtime.drain()
    assert tasks.with_context.get_result(result.id).return_value == {"attempt": 1, "id": result.id, "x": 7}


@pytest.mark.django_db
def test_the_context_attempt_counts_recoveries(dbos_runtime):
    from dbos_django.tasks import workflow_of

    workflow_id = dbos_runtime.simulate_crash(workflow_of(tasks.with_context), 3, after_step=0)
    dbos_runtime.recover()
    assert tasks.with_context.get_result(workflow_id).return_value["attempt"] == 2


@pytest.mark.django_db
def test_an_async_task_runs(dbos_runtime):
    result = tasks.async_add.enqueue(4, 5)
    dbos_runtime.drain()
    assert tasks.async_add.get_result(result.id).return_value == 9


@pytest.mark.django_db
def test_run_after_becomes_a_delay(dbos_runtime):
    run_after = timezone.now() + timedelta(seconds=90)
    result = tasks.add.using(run_after=run_after).enqueue(1, 2)
    assert Workflow.objects.get(workflow_id=result.id).status == "DELAYED"
    assert dbos_runtime.drain() == 0
    dbos_runtime.clock.advance(120)
    dbos_runtime.drain()
    assert tasks.add.get_result(result.id).return_value == 3


@pytest.mark.django_db
def test_higher_django_priority_runs_first(dbos_runtime):
    for tag, priority in [("low", -100), ("mid", 0), ("high", 100)]:
        tasks.noted.using(priority=priority).enqueue(tag)
    dbos_runtime.drain()
    assert list(SideEffect.objects.order_by("id").values_list("key", flat=True)) == ["high", "mid", "low"]


@pytest.mark.django_db
def test_dbos_options_on_the_task_reach_the_workflow(dbos_runtime):
    result = tasks.with_dbos_options.enqueue()
    row = Workflow.objects.get(workflow_id=result.id)
    assert (row.deduplication_id, row.workflow_timeout_ms) == ("only-once", 60_000)
    from dbos_django.engine.registry import registry

    assert registry.workflow(tasks.with_dbos_options.module_path).max_recovery_attempts == 3


@pytest.mark.django_db
def test_the_three_signals_are_sent(dbos_runtime):
    seen: list[tuple[str, str]] = []

    def record(name: str):
        def receiver(sender, task_result, **kwargs):
            seen.append((name, task_result.status))

        return receiver

    receivers = [(task_enqueued, record("enqueued")), (task_started, record("started")),
                 (task_finished, record("finished"))]  # fmt: skip
    for signal, receiver in receivers:
        signal.connect(receiver)
    try:
        tasks.add.enqueue(1, 1)
        dbos_runtime.drain()
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver)
    assert seen == [("enqueued", "READY"), ("started", "RUNNING"), ("finished", "SUCCESSFUL")]


@pytest.mark.django_db(transaction=True)
def test_enqueue_happens_in_the_callers_transaction(dbos_runtime_testing):
    with pytest.raises(RuntimeError), transaction.atomic():
        result = tasks.add.enqueue(1, 1)
        raise RuntimeError
    assert not Workflow.objects.filter(workflow_id=result.id).exists()


@pytest.mark.django_db
def test_an_unknown_result_id_does_not_exist(dbos_runtime):
    with pytest.raises(TaskResultDoesNotExist):
        tasks.add.get_result("no-such-result")


@pytest.mark.django_db(transaction=True)
def test_aenqueue_and_aget_result(dbos):
    async def main() -> int:
        result = await tasks.add.aenqueue(20, 22)
        for _ in range(200):
            fetched = await tasks.add.aget_result(result.id)
            if fetched.is_finished:
                return fetched.return_value
            await asyncio.sleep(0.05)
        raise AssertionError("the task did not finish")

    assert asyncio.run(main()) == 42
