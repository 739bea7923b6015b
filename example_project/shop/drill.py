"""The crash lab: place paid orders, SIGKILL the worker in the middle of them, and check the ledger.

``make demo`` restarts a worker that dies (as systemd or Kubernetes would), under the same executor id,
so at launch it resumes the workflows it was running from their last checkpoints.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from dbos_django.models import Executor, Workflow

from .models import Charge, CrashDrill, Ledger, Order, Product
from .orders import deliver_payment, place_order
from .payments import payment_event

DRILL_PRODUCT = "crash-test-dummy"


def place_paid_orders(count: int) -> list[int]:
    """Place ``count`` orders and pay each at once (the payment waits in its workflow's mailbox)."""
    product, _ = Product.objects.get_or_create(
        sku=DRILL_PRODUCT, defaults={"name": "Crash-test dummy", "price_cents": 1999, "stock": 0}
    )
    Product.objects.filter(pk=product.pk).update(stock=product.stock + count)
    placed = [place_order(product, f"drill-{n}@example.com") for n in range(count)]
    for order in placed:
        deliver_payment(payment_event(order))
    return [order.pk for order in placed]


def local_workers() -> list[Executor]:
    """The live worker processes on this machine (their heartbeat is recent)."""
    cutoff = int((time.time() - settings.DBOS.get("WORKER_TIMEOUT", 60)) * 1000)
    return [
        executor
        for executor in Executor.objects.filter(heartbeat_at__gt=cutoff, hostname=socket.gethostname())
        if executor.pid and executor.pid != os.getpid()
    ]


def kill_when_busy(drill: CrashDrill, *, timeout: float = 60.0) -> list[int]:
    """Wait until some of the drill's orders have shipped and others not, then SIGKILL the local workers."""
    deadline = time.monotonic() + timeout
    total = len(drill.order_ids)
    while time.monotonic() < deadline:
        shipped = Order.objects.filter(pk__in=drill.order_ids, status=Order.Status.SHIPPED).count()
        if shipped >= max(1, total // 4):
            break
        time.sleep(0.1)
    pids = []
    for executor in local_workers():
        try:
            os.kill(executor.pid, signal.SIGKILL)  # type: ignore[arg-type]
        except ProcessLookupError:
            continue
        pids.append(executor.pid)
    CrashDrill.objects.filter(pk=drill.pk).update(killed_pids=pids, killed_at=timezone.now())
    return pids


@dataclass
class DrillReport:
    """What the drill shows: every order finished, every effect in the ledger once, one charge per order."""

    orders: int
    statuses: dict[str, int]
    finished: int
    duplicated_effects: list[str] = field(default_factory=list)
    charges: int = 0
    provider_requests: int = 0
    recovered_workflows: int = 0

    @property
    def done(self) -> bool:
        return self.finished == self.orders

    @property
    def ok(self) -> bool:
        return self.done and not self.duplicated_effects and self.charges == self.statuses.get("shipped", 0)


def report(order_ids: list[int]) -> DrillReport:
    """The state of these orders now, checked against the ledger and the provider's charges."""
    statuses = Counter(Order.objects.filter(pk__in=order_ids).values_list("status", flat=True))
    repeated = (
        Ledger.objects.filter(order__in=order_ids).values("order", "action").annotate(n=Count("pk")).filter(n__gt=1)
    )
    charges = Charge.objects.filter(order__in=order_ids)
    workflow_ids = [f"order-{pk}" for pk in order_ids]
    checkouts_and_children = Workflow.objects.filter(workflow_id__in=workflow_ids) | Workflow.objects.filter(
        parent_workflow_id__in=workflow_ids
    )
    return DrillReport(
        orders=len(order_ids),
        statuses=dict(statuses),
        finished=sum(n for status, n in statuses.items() if status in Order.FINAL),
        duplicated_effects=[f"order {row['order']}: {row['action']} x{row['n']}" for row in repeated],
        charges=charges.count(),
        provider_requests=sum(charges.values_list("requests", flat=True)),
        recovered_workflows=checkouts_and_children.filter(recovery_attempts__gt=1).count(),
    )
