"""Async workflows and steps run natively; blocking APIs refuse a running event loop."""

from __future__ import annotations

import asyncio

import pytest

from dbos_django import DBOS, SetWorkflowID
from tests.app.models import SideEffect


@DBOS.step()
async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


@DBOS.step()
def sync_record(key: str) -> str:
    SideEffect.objects.create(key=key)
    return key


@DBOS.workflow()
async def async_workflow(x: int) -> int:
    a = await async_double(x)
    sync_record("from-async")
    await DBOS.sleep_async(0.01)
    return await async_double(a)


def test_an_async_workflow_runs_on_the_callers_loop(dbos):
    async def main() -> int:
        with SetWorkflowID("async-1"):
            return await async_workflow(3)

    assert asyncio.run(main()) == 12
    names = [s["function_name"] for s in DBOS.list_workflow_steps("async-1")]
    assert names == [async_double.__qualname__, sync_record.__qualname__, "DBOS.sleep", async_double.__qualname__]
    assert SideEffect.objects.filter(key="from-async").count() == 1


def test_gathered_async_steps_take_ids_in_start_order(dbos):
    @DBOS.step()
    async def first() -> str:
        await asyncio.sleep(0.02)
        return "first"

    @DBOS.step()
    async def second() -> str:
        return "second"

    @DBOS.workflow()
    async def gatherer() -> list[str]:
        return list(await asyncio.gather(first(), second()))

    async def main() -> list[str]:
        with SetWorkflowID("async-gather"):
            return await gatherer()

    assert asyncio.run(main()) == ["first", "second"]
    steps = DBOS.list_workflow_steps("async-gather")
    assert [(s["function_id"], s["output"]) for s in steps] == [(1, "first"), (2, "second")]


def test_start_workflow_async_returns_an_awaitable_handle(dbos):
    async def main() -> tuple[int, str]:
        with SetWorkflowID("async-2"):
            handle = await DBOS.start_workflow_async(async_workflow, 1)
        result = await handle.get_result()
        status = await handle.get_status()
        return result, status.status

    assert asyncio.run(main()) == (4, "SUCCESS")


def test_an_async_workflow_started_from_sync_code_runs_on_the_runtime_loop(dbos):
    with SetWorkflowID("async-3"):
        handle = DBOS.start_workflow(async_workflow, 2)
    assert handle.get_result() == 8


def test_a_blocking_call_inside_an_event_loop_names_its_async_twin(dbos):
    async def main() -> None:
        DBOS.get_workflow_status("anything")

    with pytest.raises(RuntimeError, match=r"get_workflow_status_async"):
        asyncio.run(main())


def test_async_introspection_twins_work(dbos):
    async def main() -> tuple[object, object]:
        with SetWorkflowID("async-4"):
            await async_workflow(1)
        status = await DBOS.get_workflow_status_async("async-4")
        result = await DBOS.get_result_async("async-4")
        steps = await DBOS.list_workflow_steps_async("async-4")
        handle = await DBOS.retrieve_workflow_async("async-4")
        return (status.status, result, len(steps)), await handle.get_result()

    assert asyncio.run(main()) == (("SUCCESS", 4, 4), 4)


def test_run_step_async_checkpoints_sync_and_async_callables(dbos):
    async def triple(x: int) -> int:
        return x * 3

    @DBOS.workflow()
    async def wf() -> int:
        a = await DBOS.run_step_async({"name": "triple"}, triple, 2)
        b = await DBOS.run_step_async({"name": "plus"}, lambda y: y + 1, a)
        return b

    async def main() -> int:
        with SetWorkflowID("async-5"):
            return await wf()

    assert asyncio.run(main()) == 7
    assert [s["function_name"] for s in DBOS.list_workflow_steps("async-5")] == ["triple", "plus"]
