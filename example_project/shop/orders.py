"""What the web side does: place an order (row and workflow in one transaction), deliver a payment to it."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dbos_django import DBOS, SetWorkflowID

from . import payments
from .models import Order, Product
from .workflows import checkout, orders


def place_order(product: Product, email: str, quantity: int = 1) -> Order:
    """Create the order and enqueue its checkout workflow in one transaction: both happen, or neither."""
    with transaction.atomic():
        order = Order.objects.create(product=product, email=email, quantity=quantity)
        with SetWorkflowID(order.workflow_id):  # one workflow per order, however often this runs
            orders.enqueue(checkout, order.pk)
    return order


def deliver_payment(event: dict[str, Any]) -> Order:
    """Hand a (verified) payment event to the order's workflow, once per event id.

    Raise ``Order.DoesNotExist`` for an unknown order and ``ValueError`` for an event that is not a payment.
    """
    if event.get("type") not in payments.EVENT_TYPES or not isinstance(event.get("id"), str):
        raise ValueError("not a payment event")
    order = Order.objects.get(pk=event.get("order"))
    message = {"event": event["id"], "token": str(event.get("token", ""))}
    # The provider retries webhooks; the event id as idempotency key makes a retry deliver nothing new.
    DBOS.send(order.workflow_id, message, "payment", idempotency_key=event["id"])
    return order
