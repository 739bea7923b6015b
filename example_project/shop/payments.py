"""A stand-in for a payment provider, Stripe-like: idempotent charges and signed webhooks.

The checkout workflow charges through a step; a step may run more than once (it is at-least-once), so
every charge carries an idempotency key and the provider charges each key once. The provider's answer
reaches the shop as a signed webhook, which the shop turns into a durable message to the order's workflow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from .models import Charge, Order

SUCCEEDED = "payment.succeeded"
FAILED = "payment.failed"
EVENT_TYPES = (SUCCEEDED, FAILED)


class GatewayUnavailable(Exception):
    """The provider answered 503: try again later (the charging step retries with backoff)."""


class CardDeclined(Exception):
    """The card was declined: retrying will not help."""


def charge(*, idempotency_key: str, order: Order, token: str) -> str:
    """Charge the order's total once per ``idempotency_key``; return the charge's id."""
    if random.random() < settings.SHOP_GATEWAY_FAILURE_RATE:
        raise GatewayUnavailable("payment provider: 503 Service Unavailable")
    if token == "tok_declined":
        raise CardDeclined(f"card declined for order {order.pk}")
    try:
        with transaction.atomic():
            made = Charge.objects.create(idempotency_key=idempotency_key, order=order, amount_cents=order.total_cents)
    except IntegrityError:  # the same key again: the provider returns the first charge, charging nothing
        Charge.objects.filter(idempotency_key=idempotency_key).update(requests=F("requests") + 1)
        made = Charge.objects.get(idempotency_key=idempotency_key)
    return f"ch_{made.pk}"


def payment_event(order: Order, *, succeeded: bool = True) -> dict[str, Any]:
    """The event the provider posts to the shop's webhook when a customer has paid (or failed to)."""
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": SUCCEEDED if succeeded else FAILED,
        "order": order.pk,
        "token": "tok_visa" if succeeded else "tok_declined",
    }


def sign(body: bytes) -> str:
    """The signature the provider sends in the ``X-Signature`` header."""
    return hmac.new(settings.SHOP_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def signed(event: dict[str, Any]) -> tuple[bytes, str]:
    """A webhook request's body and signature, as the provider would post them."""
    body = json.dumps(event).encode()
    return body, sign(body)


def verified(body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(body), signature)
