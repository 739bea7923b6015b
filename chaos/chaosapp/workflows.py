"""The soak's workload: an order workflow that uses every durable feature, and a cron workflow.

``order``: a step that fails at random and is retried, a ``@DBOS.transaction`` that writes a ledger
row, a durable sleep, a child workflow, ``set_event``, and ``recv`` of a payment the soak sends
from outside. Orders
run on a queue with a global concurrency limit. A few orders are doomed: a step that always fails,
so the workflow must end in ERROR (recorded once, not retried forever). ``tick`` runs every second
from a cron schedule and writes one row per tick.
"""

from __future__ import annotations

import os
import random
from datetime import datetime

from dbos_django import DBOS, Queue

from .models import Delivery, LedgerEntry, Tick

QUEUE_NAME = "chaos-orders"
QUEUE_CONCURRENCY = int(os.environ.get("CHAOS_QUEUE_CONCURRENCY", "16"))
#: How long an order waits for its payment; the soak sends every payment long before this.
RECV_TIMEOUT_SECONDS = 600.0
#: Share of the attempts of ``reserve`` that fail (retried up to 12 attempts: all 12 fail once in 4e9).
FLAKE_RATE = 0.2
PAYMENT_TOPIC = "payment"

orders = Queue(QUEUE_NAME, concurrency=QUEUE_CONCURRENCY, polling_interval_sec=0.5)


class Flake(Exception):
    """A transient failure of a step (retried)."""


@DBOS.step(retries_allowed=True, max_attempts=12, interval_seconds=0.02, backoff_rate=1.5)
def reserve(number: int) -> int:
    """Reserve stock: fails now and then, and is retried."""
    if random.random() < FLAKE_RATE:
        raise Flake(f"stock service busy for order {number}")
    return number * 7


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=0.02)
def reject(number: int) -> None:
    """A step that always fails: its order ends in ERROR."""
    raise Flake(f"order {number} is doomed")


@DBOS.transaction()
def book(workflow_id: str, amount: int) -> int:
    """Write the order's ledger row (exactly once: the row and the checkpoint commit together)."""
    return LedgerEntry.objects.create(workflow_id=workflow_id, amount=amount).pk


@DBOS.transaction()
def record_delivery(workflow_id: str, token: str) -> None:
    Delivery.objects.create(workflow_id=workflow_id, token=token)


@DBOS.step()
def label(number: int) -> str:
    return f"parcel-{number}"


@DBOS.workflow()
def pack(number: int) -> str:
    """The child workflow of an order."""
    return label(number)


@DBOS.workflow()
def order(number: int, doomed: bool) -> dict[str, object]:
    """Reserve, (maybe fail), book, pack in a child workflow, wait for the payment, record it."""
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    DBOS.set_event("stage", "started")
    amount = reserve(number)
    if doomed:
        reject(number)
    book(workflow_id, amount)
    DBOS.sleep(0.1 * (number % 4))  # durable: a resumed order sleeps only what is left
    parcel = pack(number)
    DBOS.set_event("stage", "awaiting-payment")
    token = DBOS.recv(PAYMENT_TOPIC, timeout_seconds=RECV_TIMEOUT_SECONDS)
    if token is None:
        raise RuntimeError(f"no payment for {workflow_id} within {RECV_TIMEOUT_SECONDS}s")
    record_delivery(workflow_id, token)
    DBOS.set_event("stage", "done")
    return {"amount": amount, "parcel": parcel, "token": token}


@DBOS.transaction()
def record_tick(workflow_id: str, scheduled_at: datetime) -> None:
    Tick.objects.create(workflow_id=workflow_id, scheduled_at=scheduled_at)


@DBOS.scheduled("* * * * * *")
@DBOS.workflow()
def tick(scheduled_time: datetime, actual_time: datetime) -> None:
    """Every second: one row for the tick (at most once per tick, whichever workers see it)."""
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    record_tick(workflow_id, scheduled_time)
