"""Testing mode: run started and queued workflows in the caller's thread, deterministically.

``drain()`` runs, one at a time and in a fixed order, every workflow that can run now:
started ones first (in start order), then queued ones (queues by name, rows by priority then
age), promoting delayed ones whose time has come on the engine's clock. A workflow that is
"killed" by ``simulate_crash`` is left exactly as a SIGKILL would leave it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from django.db import connections

from ..models import TERMINAL_STATUSES
from ..storage import queues as queue_store
from ..storage import workflows as wf_store
from ..storage.queues import INTERNAL_QUEUE
from . import clock, scheduler
from .aio import inline_db
from .context import ProcessDeath, WorkflowContext
from .registry import WorkflowInfo, registry
from .runtime import Runtime

logger = logging.getLogger("dbos_django")
MAX_RUNS = 100_000


def _run(runtime: Runtime, wf: WorkflowContext, info: WorkflowInfo, args: tuple[Any, ...], kwargs: dict[str, Any],
         crash_after: int | None) -> bool:  # fmt: skip
    """Run one workflow to its end here; False if its (simulated) process died on the way."""
    from .workflows import Parked, execute, execute_async

    wf.crash_after = crash_after
    if runtime.running(wf.workflow_id) is None:
        runtime.activate(wf.workflow_id)
    try:
        if info.is_async:
            _run_async_here(execute_async(wf, info, args, kwargs))
        else:
            execute(wf, info, args, kwargs)
    except ProcessDeath:
        future = runtime.release(wf.workflow_id)
        if future is not None and not future.done():
            future.set_exception(ProcessDeath(f"workflow {wf.workflow_id} died with its (simulated) process"))
        return False
    except (Exception, Parked):
        pass  # recorded as the workflow's outcome; its handle reads it
    return True


def _run_async_here(coroutine: Any) -> None:
    """Run an async workflow on an event loop in this thread, its database work on this thread's connection."""
    token = inline_db.set(True)
    allowed = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the ORM on the loop's thread: nothing else runs here
    # Inside an event loop Django hands out other connection objects: keep the test's own.
    mine = {conn.alias: conn for conn in connections.all(initialized_only=True)}

    async def on_this_connection() -> None:
        for alias, conn in mine.items():
            connections[alias] = conn
        await coroutine

    try:
        asyncio.run(on_this_connection())
    finally:
        if allowed is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allowed
        inline_db.reset(token)


def _claim_one(runtime: Runtime) -> tuple[WorkflowContext, WorkflowInfo, tuple[Any, ...], dict[str, Any]] | None:
    from .dispatcher import prepare_claimed

    registry.queues.setdefault(INTERNAL_QUEUE, _internal_queue())
    for name in sorted({*registry.queues, *queue_store.stored_queue_names(runtime.alias)}):
        queue = registry.queues.get(name) or _internal_queue(name)
        partitions = queue_store.partitions(runtime.alias, name) if queue.partitioned else [None]
        for partition in partitions:
            claimed = queue_store.claim(runtime.alias, name, partition=partition, limits=queue.limits(), wanted=1,
                                        executor_id=runtime.executor_id, versions=(runtime.application_version,),
                                        now_ms=clock.now_ms())  # fmt: skip
            if claimed:
                row = claimed[0]
                steps = queue_store.load_steps(runtime.alias, [row.workflow_id])[row.workflow_id]
                prepared = prepare_claimed(runtime, row, steps)
                if prepared is not None:
                    return prepared
    return None


def _internal_queue(name: str = INTERNAL_QUEUE) -> Any:
    from ..queue import Queue

    return Queue(name, register=False)


def drain(runtime: Runtime, *, until: str | None = None, crash_points: dict[str, int] | None = None) -> int:
    """Run what can run now, until nothing is left (or workflow ``until`` has finished). Return how many ran."""
    crash_points = crash_points if crash_points is not None else runtime.crash_points
    ran = 0
    while ran < MAX_RUNS:
        if until is not None:
            outcome = wf_store.read_outcome(runtime.alias, until)
            if outcome is not None and outcome.status in TERMINAL_STATUSES:
                break
        if runtime.inline:
            wf, info, args, kwargs = runtime.inline.popleft()
        else:
            scheduler.run_pass(runtime.alias)
            queue_store.promote_delayed(runtime.alias, clock.now_ms())
            prepared = _claim_one(runtime)
            if prepared is None:
                break
            wf, info, args, kwargs = prepared
        survived = _run(runtime, wf, info, args, kwargs, crash_points.pop(wf.workflow_id, None))
        ran += 1
        if not survived and wf.workflow_id == until:
            break  # the process "died": nothing more runs in it
    return ran
