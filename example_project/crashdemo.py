"""`make demo-crash`: the shop's orders, a SIGKILL of the worker in the middle of them, a restart, the ledger.

Runs on a fresh SQLite file, no server needed (or on DATABASE_URL if set).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDERS = 10
EXECUTOR_ID = "crash-demo-worker"


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(ROOT / "manage.py"), "dbos_worker", "--executor-id", EXECUTOR_ID]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def wait_for(predicate: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def main() -> int:
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='dbos-demo-')}/demo.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    os.environ.setdefault("SHOP_PACKING_SECONDS", "0.3")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from example_project.shop import drill
    from example_project.shop.models import CrashDrill, Ledger

    call_command("migrate", verbosity=0)
    quiet = {"DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", "TASKS_LOG_LEVEL": "WARNING"}
    env = {**os.environ, "PYTHONPATH": str(ROOT), **quiet}
    print(f"1. Database: {os.environ['DATABASE_URL']}")
    worker = start_worker(env)
    order_ids = drill.place_paid_orders(ORDERS)
    run = CrashDrill.objects.create(order_ids=order_ids)
    print(f"2. Worker {worker.pid} started; placed and paid {ORDERS} orders (each a checkout workflow)")
    if not wait_for(lambda: drill.local_workers(), 60):
        print("UNEXPECTED: the worker did not start")
        worker.kill()
        return 1
    killed = drill.kill_when_busy(run)
    worker.wait()
    state = drill.report(order_ids)
    print(
        f"3. SIGKILL of worker {', '.join(map(str, killed))} in the middle of the orders: {_statuses(state.statuses)}"
    )
    worker = start_worker(env)
    print(f"4. A new worker {worker.pid}, same executor id: at launch it resumes what its predecessor was running")
    finished = wait_for(lambda: drill.report(order_ids).done, 180)
    state = drill.report(order_ids)
    worker.send_signal(signal.SIGTERM)
    worker.wait()
    print(f"5. {_statuses(state.statuses)}; {state.recovered_workflows} workflows resumed from their last checkpoint")
    print("6. The ledger, written in the same transactions as the effects:")
    for order_id in order_ids[:3]:
        actions = Ledger.objects.filter(order_id=order_id).values_list("action", flat=True)
        print(f"     order {order_id}: " + " → ".join(actions))
    print(f"     ... and {len(order_ids) - 3} more orders")
    print(f"7. The payment provider: {state.charges} charges for {ORDERS} orders "
          f"({state.provider_requests} requests: a step retried after a crash resends its idempotency key)")  # fmt: skip
    if finished and state.ok:
        print("8. Every order finished; no effect ran twice.")
        return 0
    print(f"UNEXPECTED: finished={finished}, repeated effects={state.duplicated_effects}")
    return 1


def _statuses(statuses: dict[str, int]) -> str:
    return ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))


if __name__ == "__main__":
    sys.exit(main())
