"""A process for the crash tests to kill: it runs a workflow up to a pause point, or recovers it.

    python tests/crash_worker.py run steps|sleep WORKFLOW_ID [--pause POINT --signal FILE] [--executor-id ID]
    python tests/crash_worker.py recover WORKFLOW_ID [--executor-id ID]

``run`` launches DBOS and starts the workflow under ``WORKFLOW_ID``. At the pause point named by
``--pause`` it creates ``--signal`` and blocks, for the test to kill it with SIGKILL.
``recover`` launches DBOS, which recovers this executor's PENDING workflows, waits for
``WORKFLOW_ID`` to finish and prints one JSON line: its result, when the launch began, its pid.

Both modes register the same workflows from this file, so they share the application version
that recovery matches on. Every step body writes a ``SideEffect`` row (key
``"<workflow id>:<step>"``, ``created`` = the writer's pid): the rows count executions.

The environment comes from ``tests.conftest.subprocess_env()``: the test run's database.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import django

django.setup()

from dbos_django import DBOS, SetWorkflowID, WorkflowHandle  # noqa: E402
from tests.app.models import SideEffect  # noqa: E402

STEPS_INPUT = 1
SLEEP_SECONDS = 2.0
PAUSE_POINTS = ("in-step-one", "after-step-one", "in-transaction", "after-transaction", "after-step-three")
#: A paused process nobody kills gives up after this long, so no test run leaves one behind.
ORPHAN_SECONDS = 300.0


class Pause:
    """Where ``run`` stops: the point's name and the file that tells the test it got there."""

    point: str | None = None
    signal: Path | None = None


def pause(point: str) -> None:
    """Block forever at the configured pause point, after telling the test; elsewhere do nothing."""
    if point != Pause.point or Pause.signal is None:
        return
    Pause.signal.touch()
    threading.Event().wait(ORPHAN_SECONDS)
    os._exit(3)


def record_execution(name: str) -> None:
    SideEffect.objects.create(key=f"{DBOS.workflow_id}:{name}", created=os.getpid())


@DBOS.step()
def step_one(x: int) -> int:
    record_execution("step_one")
    pause("in-step-one")  # the side effect committed, the checkpoint did not
    return x + 1


@DBOS.transaction()
def record_transaction(x: int) -> int:
    record_execution("transaction")  # commits with the transaction's checkpoint, or not at all
    pause("in-transaction")
    return x * 10


@DBOS.step()
def step_three(x: int) -> int:
    record_execution("step_three")
    return x + 5


@DBOS.workflow()
def steps_workflow(x: int) -> list[int]:
    a = step_one(x)
    pause("after-step-one")
    b = record_transaction(a)
    pause("after-transaction")
    c = step_three(b)
    pause("after-step-three")  # every step checkpointed, the outcome not yet recorded
    return [a, b, c]


@DBOS.step()
def now_ms(name: str) -> int:
    record_execution(name)
    return time.time_ns() // 1_000_000


@DBOS.workflow()
def sleep_workflow(seconds: float) -> int:
    before = now_ms("before_sleep")
    DBOS.sleep(seconds)
    after = now_ms("after_sleep")
    return after - before


def run(kind: str, workflow_id: str) -> None:
    DBOS.launch()
    handle: WorkflowHandle[Any]
    with SetWorkflowID(workflow_id):
        if kind == "steps":
            handle = DBOS.start_workflow(steps_workflow, STEPS_INPUT)
        else:
            handle = DBOS.start_workflow(sleep_workflow, SLEEP_SECONDS)
    # Reached only if the pause point was never hit; the test treats that as a failure.
    print(json.dumps({"result": handle.get_result()}), flush=True)


def recover(workflow_id: str) -> None:
    launched_at_ms = time.time_ns() // 1_000_000
    DBOS.launch()  # recovery of this executor's PENDING workflows starts here
    result = DBOS.retrieve_workflow(workflow_id).get_result()
    print(json.dumps({"result": result, "launched_at_ms": launched_at_ms, "pid": os.getpid()}), flush=True)
    DBOS.destroy(workflow_completion_timeout_sec=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executor-id", default=None)
    modes = parser.add_subparsers(dest="mode", required=True)
    run_parser = modes.add_parser("run")
    run_parser.add_argument("kind", choices=["steps", "sleep"])
    run_parser.add_argument("workflow_id")
    run_parser.add_argument("--pause", choices=PAUSE_POINTS, default=None)
    run_parser.add_argument("--signal", type=Path, default=None)
    recover_parser = modes.add_parser("recover")
    recover_parser.add_argument("workflow_id")
    args = parser.parse_args()

    if args.executor_id is not None:
        DBOS(config={"executor_id": args.executor_id})
    if args.mode == "run":
        Pause.point, Pause.signal = args.pause, args.signal
        run(args.kind, args.workflow_id)
    else:
        recover(args.workflow_id)


if __name__ == "__main__":
    main()
