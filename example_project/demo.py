"""`make demo`: a workflow, a SIGKILL of its process, recovery in a new process, each step once.

Runs on a fresh SQLite file, no server needed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_ID = "order-42"


def setup(db_path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child(mode: str, db_path: str) -> None:
    """The worker process: 'run' starts the workflow, 'recover' only launches (recovery resumes it)."""
    setup(db_path)
    from dbos_django import DBOS, SetWorkflowID
    from example_project.shop.workflows import process_order

    DBOS.launch()
    if mode == "run":
        with SetWorkflowID(WORKFLOW_ID):
            process_order("42")
    else:
        print("  recovered result:", DBOS.retrieve_workflow(WORKFLOW_ID).get_result())
    DBOS.destroy()


def main() -> int:
    db_path = os.path.join(tempfile.mkdtemp(prefix="dbos-demo-"), "demo.sqlite3")
    setup(db_path)
    from django.core.management import call_command

    from dbos_django.models import StepOutput, Workflow
    from example_project.shop.models import Ledger

    call_command("migrate", verbosity=0)
    print(f"1. Database: {db_path} (SQLite, no server)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, __file__, "run", db_path], env=env)
    print(f"2. Worker process {worker.pid} runs workflow {WORKFLOW_ID}: a transaction, then 4 steps")
    deadline = time.monotonic() + 60
    while StepOutput.objects.filter(workflow_id=WORKFLOW_ID).count() < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    done = StepOutput.objects.filter(workflow_id=WORKFLOW_ID).count()
    status = Workflow.objects.get(workflow_id=WORKFLOW_ID).status
    print(f"3. Killed it with SIGKILL: workflow is {status}, {done} steps checkpointed")
    print("4. A new process launches DBOS; recovery resumes the workflow after its last checkpoint:")
    subprocess.run([sys.executable, __file__, "recover", db_path], env=env, check=True)
    rows = list(Ledger.objects.filter(workflow_id=WORKFLOW_ID).order_by("id").values_list("step", flat=True))
    print("5. The ledger (one row per side effect):")
    for row in rows:
        print(f"     - {row}")
    ok = Workflow.objects.get(workflow_id=WORKFLOW_ID).status == "SUCCESS" and len(rows) == len(set(rows)) == 5
    print("6.", "Every step ran exactly once." if ok else "UNEXPECTED: see the ledger above")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1:
        child(sys.argv[1], sys.argv[2])
    else:
        sys.exit(main())
