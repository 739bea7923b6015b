"""The order pipeline: one durable checkout workflow per order, a rate-limited fulfilment queue, a nightly report.

``manage.py dbos_worker`` imports this module (every app's ``workflows`` module is autodiscovered), so the
worker knows these workflows and queues; the web process only enqueues and reads.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, Sum

from dbos_django import DBOS, Queue
from dbos_django.error import DBOSMaxStepRetriesExceeded

from . import payments
from .models import Charge, DailyReport, Ledger, Order, Product
from .tasks import send_order_email

#: Checkouts: each waits for its payment, so no concurrency limit (a waiting workflow costs no CPU).
orders = Queue("orders")
#: The warehouse's API takes two parcels a second, whatever the number of workers.
fulfilment = Queue("fulfilment", limiter={"limit": 2, "period": 1.0})

Status = Order.Status


def record(order: Order, action: str) -> None:
    """A ledger row, written inside the caller's @DBOS.transaction: it commits with the effect it records."""
    Ledger.objects.create(order=order, workflow_id=DBOS.workflow_id or "", action=action)


@DBOS.transaction()
def reserve_stock(order_id: int) -> bool:
    """Take the order's quantity out of stock, or reject the order when there is not enough."""
    order = Order.objects.select_related("product").get(pk=order_id)
    taken = Product.objects.filter(pk=order.product_id, stock__gte=order.quantity)
    if not taken.update(stock=F("stock") - order.quantity):
        Order.objects.filter(pk=order_id).update(status=Status.REJECTED)
        record(order, "rejected: out of stock")
        return False
    Order.objects.filter(pk=order_id).update(status=Status.AWAITING_PAYMENT)
    record(order, "stock reserved")
    return True


@DBOS.transaction()
def release_stock(order_id: int, status: str) -> None:
    """Put the order's quantity back in stock and close the order with ``status``."""
    order = Order.objects.get(pk=order_id)
    Product.objects.filter(pk=order.product_id).update(stock=F("stock") + order.quantity)
    Order.objects.filter(pk=order_id).update(status=status)
    record(order, f"stock released: {status}")


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=0.2, backoff_rate=2.0)
def charge_card(order_id: int, token: str) -> str | None:
    """Charge the card once (the provider dedupes on the key); ``None`` if the card was declined."""
    order = Order.objects.select_related("product").get(pk=order_id)
    try:
        return payments.charge(idempotency_key=f"order-{order_id}", order=order, token=token)
    except payments.CardDeclined:
        return None  # returned, not raised: a declined card must not be retried


@DBOS.transaction()
def mark_paid(order_id: int, charge_id: str) -> None:
    order = Order.objects.get(pk=order_id)
    Order.objects.filter(pk=order_id).update(status=Status.PAID)
    record(order, f"paid ({charge_id})")


@DBOS.step()
def pick_and_pack(order_id: int) -> None:
    """The warehouse at work (slow enough for the crash lab to kill the worker in the middle)."""
    time.sleep(settings.SHOP_PACKING_SECONDS)


@DBOS.transaction()
def ship(order_id: int) -> str:
    order = Order.objects.get(pk=order_id)
    tracking = f"TRK{order_id:08d}"
    Order.objects.filter(pk=order_id).update(status=Status.SHIPPED, tracking_number=tracking)
    record(order, f"shipped ({tracking})")
    return tracking


@DBOS.workflow()
def fulfil(order_id: int) -> str:
    """Pack and ship one order; runs on the rate-limited fulfilment queue."""
    pick_and_pack(order_id)
    return ship(order_id)


def tell(status: str, text: str) -> None:
    """Show progress: the latest status as an event, and one line of the order page's timeline."""
    status = str(status)  # the plain value, not the enum member: stored as JSON, readable by the browser
    DBOS.set_event("status", status)
    DBOS.write_stream("progress", {"status": status, "text": text})


def finish(status: str, text: str) -> str:
    tell(status, text)
    DBOS.close_stream("progress")
    return str(status)


@DBOS.workflow()
def checkout(order_id: int) -> str:
    """An order's whole life: reserve, wait for the payment, charge, ship, e-mail. Returns the final status."""
    tell(Status.PLACED, "Order received")
    if not reserve_stock(order_id):
        return finish(Status.REJECTED, "Out of stock: order rejected")
    tell(Status.AWAITING_PAYMENT, "Stock reserved, waiting for the payment")
    payment = DBOS.recv("payment", timeout_seconds=settings.SHOP_PAYMENT_TIMEOUT_SECONDS)
    if payment is None:
        release_stock(order_id, Status.CANCELLED.value)
        return finish(Status.CANCELLED, "No payment in time: order cancelled, stock released")
    try:
        charge_id = charge_card(order_id, payment["token"])
    except DBOSMaxStepRetriesExceeded:  # the provider stayed down through every retry
        charge_id = None
    if charge_id is None:
        release_stock(order_id, Status.PAYMENT_FAILED.value)
        return finish(Status.PAYMENT_FAILED, "Payment failed: order cancelled, stock released")
    mark_paid(order_id, charge_id)
    tell(Status.PAID, f"Paid ({charge_id}); handed to the warehouse")
    tracking = fulfilment.enqueue(fulfil, order_id).get_result()
    send_order_email.enqueue(order_id)
    return finish(Status.SHIPPED, f"Shipped, tracking number {tracking}; confirmation e-mail queued")


@DBOS.transaction()
def write_report(day: str) -> dict[str, int]:
    """Yesterday's figures, computed and stored in one transaction (running it twice changes nothing)."""
    placed = Order.objects.filter(created__date=day)
    counts = placed.aggregate(
        orders=Count("pk"),
        shipped=Count("pk", filter=Q(status=Status.SHIPPED)),
        cancelled=Count("pk", filter=Q(status__in=[Status.CANCELLED, Status.PAYMENT_FAILED])),
    )
    counts["revenue_cents"] = Charge.objects.filter(order__in=placed).aggregate(s=Sum("amount_cents"))["s"] or 0
    DailyReport.objects.update_or_create(day=day, defaults=counts)
    return counts


@DBOS.scheduled("0 2 * * *")  # every night at 02:00 (TIME_ZONE)
@DBOS.workflow()
def nightly_report(scheduled_time: datetime, actual_time: datetime) -> dict[str, int]:
    """The report of the day before the tick: exactly one run per tick, however many workers."""
    return write_report((scheduled_time - timedelta(days=1)).date().isoformat())
