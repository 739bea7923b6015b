"""Async views, many waiters in one event loop, forking servers, and patching."""

from __future__ import annotations

import asyncio
import os
import warnings

import pytest
from django.db import connection  # noqa: F401  (used by the skipif condition)
from django.http import HttpRequest, JsonResponse
from django.test import AsyncClient, override_settings
from django.urls import path

from dbos_django import DBOS, Queue, SetWorkflowID
from dbos_django.engine import runtime as rt
from dbos_django.error import DBOSException
from dbos_django.models import StepOutput

views_queue = Queue("test-async-views", polling_interval_sec=0.05)


@DBOS.step()
def shout(text: str) -> str:
    return text.upper()


@DBOS.workflow()
def greet_from_view(name: str) -> str:
    DBOS.write_stream("letters", name)
    DBOS.close_stream("letters")
    return shout(f"hello {name}")


@DBOS.workflow()
async def waiter(topic: str) -> object:
    return await DBOS.recv_async(topic, timeout_seconds=60)


async def start_view(request: HttpRequest) -> JsonResponse:
    handle = await DBOS.start_workflow_async(greet_from_view, "ada")
    queued = await views_queue.enqueue_async(greet_from_view, "bob")
    letters = [v async for v in DBOS.read_stream_async(handle.workflow_id, "letters")]
    return JsonResponse({"started": await handle.get_result(), "queued": await queued.get_result(), "letters": letters})


urlpatterns = [path("start", start_view)]


@override_settings(ROOT_URLCONF=__name__)
def test_an_async_view_starts_enqueues_awaits_and_streams_workflows(dbos):
    async def main() -> dict[str, object]:
        response = await AsyncClient().get("/start")
        return response.json()

    assert asyncio.run(main()) == {"started": "HELLO ADA", "queued": "HELLO BOB", "letters": ["ada"]}


@pytest.mark.django_db(transaction=True)
def test_two_hundred_waiters_in_one_event_loop_complete_with_four_threads(settings):
    settings.DBOS = {**settings.DBOS, "MAX_THREADS": 4}
    DBOS.launch()
    try:

        async def main() -> list[object]:
            handles = []
            for i in range(200):
                with SetWorkflowID(f"many-{i}"):
                    handles.append(await DBOS.start_workflow_async(waiter, "go"))
            results = asyncio.gather(*(h.get_result() for h in handles))
            await asyncio.sleep(0.2)  # all of them are waiting now
            await asyncio.gather(*(DBOS.send_async(f"many-{i}", i, "go") for i in range(200)))
            return await asyncio.wait_for(results, 120)

        assert asyncio.run(main()) == list(range(200))
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=10)


@pytest.mark.skipif("connection.vendor == 'sqlite'",
                    reason="SQLite's own mutexes do not survive fork() of a process whose threads use it")
@pytest.mark.django_db(transaction=True)
def test_a_forked_child_runs_workflows_on_a_fresh_runtime(dbos):
    assert greet_from_view("parent") == "HELLO PARENT"
    parent_runtime = rt.get()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a multi-threaded process
        pid = os.fork()
    if pid == 0:  # the child: exit code 0 only if everything held
        code = 1
        try:
            child_runtime = rt.get()
            ok = child_runtime is not parent_runtime and child_runtime.pid == os.getpid()
            with SetWorkflowID("forked-child"):
                ok = ok and greet_from_view("child") == "HELLO CHILD"
            ok = ok and DBOS.start_workflow(greet_from_view, "again").get_result() == "HELLO AGAIN"
            code = 0 if ok else 2
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert StepOutput.objects.filter(workflow_id="forked-child").count() == 3
    assert greet_from_view("parent again") == "HELLO PARENT AGAIN"  # the parent's runtime and connection still work


@pytest.mark.django_db
def test_patch_takes_the_new_branch_in_new_executions(dbos_runtime, settings):
    settings.DBOS = {**settings.DBOS, "ENABLE_PATCHING": True}

    @DBOS.workflow()
    def shipping() -> str:
        if DBOS.patch("new-carrier"):
            return shout("new")
        return shout("old")

    with SetWorkflowID("patched"):
        assert shipping() == "NEW"
    names = [s["function_name"] for s in DBOS.list_workflow_steps("patched")]
    assert names == ["DBOS.patch-new-carrier", shout.__qualname__]


@pytest.mark.django_db
def test_an_old_execution_replays_the_old_branch(dbos_runtime, settings):
    from dbos_django.models import Workflow
    from dbos_django.serialization import DefaultSerializer

    settings.DBOS = {**settings.DBOS, "ENABLE_PATCHING": True}

    @DBOS.workflow(name="versioned")
    def versioned() -> str:
        if DBOS.patch("p"):
            return "new"
        return shout("old")

    # An execution started by the code before the patch, which crashed after its first step.
    row = Workflow.objects.create(workflow_id="old-exec", status="PENDING", name="versioned",
                                  inputs=DefaultSerializer().serialize({"args": [], "kwargs": {}}),
                                  serialization="json+pickle", executor_id="local",
                                  application_version=dbos_runtime.runtime.application_version,
                                  created_at=1, updated_at=1, recovery_attempts=1)  # fmt: skip
    StepOutput.objects.create(workflow=row, function_id=1, function_name=shout.__qualname__, output='"OLD"')
    dbos_runtime.recover()
    assert DBOS.get_result("old-exec") == "OLD"  # the old branch, replayed: no marker, no step number taken
    assert [s["function_name"] for s in DBOS.list_workflow_steps("old-exec")] == [shout.__qualname__]


@pytest.mark.django_db
def test_deprecate_patch_keeps_executions_that_took_the_patch_numbered(dbos_runtime, settings):
    settings.DBOS = {**settings.DBOS, "ENABLE_PATCHING": True}

    @DBOS.workflow()
    def deprecated() -> str:
        DBOS.deprecate_patch("p")
        return shout("new")

    with SetWorkflowID("deprecated"):
        assert deprecated() == "NEW"
    assert [s["function_id"] for s in DBOS.list_workflow_steps("deprecated")] == [1]


@pytest.mark.django_db
def test_patching_must_be_enabled(dbos_runtime):
    @DBOS.workflow()
    def wf() -> bool:
        return DBOS.patch("p")

    with pytest.raises(DBOSException, match="ENABLE_PATCHING"):
        wf()


def test_patching_gives_every_deploy_one_version(settings):
    settings.DBOS = {**settings.DBOS, "ENABLE_PATCHING": True}
    assert DBOS.application_version == "PATCHING_ENABLED"
