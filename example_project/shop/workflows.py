"""The demo's workflow: four steps, each leaving one row in the ledger."""

from __future__ import annotations

import os
import time

from dbos_django import DBOS

from .models import Ledger

STEPS = ("reserve stock", "charge card", "ship parcel", "send receipt")


@DBOS.step()
def perform(step: str) -> str:
    # Slow enough for the demo to kill the process between two steps.
    time.sleep(float(os.environ.get("DEMO_STEP_SECONDS", "0.5")))
    Ledger.objects.create(workflow_id=DBOS.workflow_id, step=step)
    return step


@DBOS.transaction()
def record_order(order_id: str) -> str:
    Ledger.objects.create(workflow_id=DBOS.workflow_id, step=f"order {order_id} recorded")
    return order_id


@DBOS.workflow()
def process_order(order_id: str) -> str:
    record_order(order_id)
    done = [perform(step) for step in STEPS]
    return f"order {order_id}: " + ", ".join(done)
