"""Workflows and queues of the multi-process tests (``tests/test_workers.py``).

``DBOS.launch()`` autodiscovers this module in every process (``tests.app`` is an installed app),
so the test process and the ``manage.py dbos_worker`` children register the same workflows and
queues, and compute the same application version. Every body leaves ``BodyRun`` rows: which
process (pid) ran it, and when; the rows count executions.
"""

from __future__ import annotations

import asyncio
import os
import time

from dbos_django import DBOS, Queue

from .models import BodyRun

POLLING_INTERVAL = 0.1
GATE_POLL_SECONDS = 0.02
#: A step waiting at a gate nobody opens gives up after this long, so no test run leaves a worker waiting.
GATE_GIVE_UP_SECONDS = 300.0

drain = Queue("workers-drain", polling_interval_sec=POLLING_INTERVAL)
pair = Queue("workers-pair", concurrency=2, polling_interval_sec=POLLING_INTERVAL)
rated = Queue("workers-rated", limiter={"limit": 5, "period": 0.5}, polling_interval_sec=POLLING_INTERVAL)
by_user = Queue("workers-by-user", partition_concurrency=1, polling_interval_sec=POLLING_INTERVAL)
serial = Queue("workers-serial", worker_concurrency=1, priority_enabled=True, polling_interval_sec=POLLING_INTERVAL)
steps = Queue("workers-steps", polling_interval_sec=POLLING_INTERVAL)
# Polled slowly: a worker paused with SIGSTOP is then almost never inside a claim (SQLite: holding the write lock).
gated = Queue("workers-gated", polling_interval_sec=1.0)

STEP_NAMES = ("one", "two", "three")


def _workflow_id() -> str:
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None, "called outside a workflow"
    return workflow_id


@DBOS.workflow()
def hold(seconds: float) -> int:
    """Stay busy ``seconds``; record the body's run; return the pid of the process that ran it."""
    started = time.time()
    time.sleep(seconds)
    BodyRun.objects.create(workflow_id=_workflow_id(), pid=os.getpid(), started=started, ended=time.time())
    return os.getpid()


@DBOS.step()
def side_effect(name: str, seconds: float) -> int:
    """A step that works ``seconds``, then leaves its row; returns the pid of the process that ran it."""
    started = time.time()
    time.sleep(seconds)
    BodyRun.objects.create(workflow_id=_workflow_id(), step=name, pid=os.getpid(), started=started, ended=time.time())
    return os.getpid()


@DBOS.workflow()
def three_recorded_steps(seconds: float) -> list[int]:
    """Three steps ``one``, ``two``, ``three``; the output lists the pid that ran each."""
    return [side_effect(name, seconds) for name in STEP_NAMES]


@DBOS.step()
def mark_run(name: str) -> int:
    BodyRun.objects.create(workflow_id=_workflow_id(), step=name, pid=os.getpid(), started=time.time())
    return os.getpid()


@DBOS.step()
def wait_at_gate(gates: str, gate: str) -> int:
    """Record this execution, then wait until the gate opens; return the pid.

    The gate opens for every process when the file ``gates/gate`` exists, and for this process
    alone when ``gates/gate.<pid>`` exists.
    """
    BodyRun.objects.create(workflow_id=_workflow_id(), step=gate, pid=os.getpid(), started=time.time())
    paths = (os.path.join(gates, gate), os.path.join(gates, f"{gate}.{os.getpid()}"))
    deadline = time.monotonic() + GATE_GIVE_UP_SECONDS
    while not any(os.path.exists(path) for path in paths):
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {paths[0]} never opened")
        time.sleep(GATE_POLL_SECONDS)
    return os.getpid()


@DBOS.workflow()
def gated_workflow(gates: str) -> list[int]:
    """Step ``first``, then a wait at gate ``one``, then a wait at gate ``two`` (files in the ``gates`` folder).

    The output lists the pid that ran each of the three steps.
    """
    return [mark_run("first"), wait_at_gate(gates, "one"), wait_at_gate(gates, "two")]


@DBOS.step()
def record_run(started: float) -> int:
    BodyRun.objects.create(workflow_id=_workflow_id(), pid=os.getpid(), started=started, ended=time.time())
    return os.getpid()


@DBOS.workflow()
async def hold_async(seconds: float) -> int:
    """``hold`` as an async workflow: it runs on the worker's event loop, not on a pool thread."""
    started = time.time()
    await asyncio.sleep(seconds)
    return record_run(started)
