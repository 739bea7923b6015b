"""The shop's tables: products, orders, the payment provider's charges, the ledger, daily reports."""

from __future__ import annotations

from django.db import models


class Product(models.Model):
    sku = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    price_cents = models.PositiveIntegerField()
    stock = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name

    @property
    def price(self) -> str:
        return f"{self.price_cents / 100:.2f}"


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "placed"
        AWAITING_PAYMENT = "awaiting_payment", "awaiting payment"
        PAID = "paid", "paid"
        SHIPPED = "shipped", "shipped"
        CANCELLED = "cancelled", "cancelled (no payment)"
        PAYMENT_FAILED = "payment_failed", "payment failed"
        REJECTED = "rejected", "rejected (out of stock)"

    #: Where the checkout workflow stops for good.
    FINAL = (Status.SHIPPED, Status.CANCELLED, Status.PAYMENT_FAILED, Status.REJECTED)

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveIntegerField(default=1)
    email = models.EmailField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLACED)
    tracking_number = models.CharField(max_length=20, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Order {self.pk}"

    @property
    def workflow_id(self) -> str:
        """The checkout workflow's id: one workflow per order, however often it is submitted."""
        return f"order-{self.pk}"

    @property
    def total_cents(self) -> int:
        return self.product.price_cents * self.quantity


class Charge(models.Model):
    """The payment provider's side: one charge per idempotency key, however often it is asked."""

    idempotency_key = models.CharField(max_length=100, unique=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="charges")
    amount_cents = models.PositiveIntegerField()
    #: How many requests reached the provider with this key (a step is at-least-once; the key makes it safe).
    requests = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.idempotency_key


class Ledger(models.Model):
    """One row per business effect, written in the same transaction as the effect: it shows each ran once."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="ledger", null=True, blank=True)
    workflow_id = models.TextField()
    action = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.workflow_id}: {self.action}"


class DailyReport(models.Model):
    """Written by the nightly scheduled workflow."""

    day = models.DateField(unique=True)
    orders = models.PositiveIntegerField()
    shipped = models.PositiveIntegerField()
    cancelled = models.PositiveIntegerField()
    revenue_cents = models.PositiveIntegerField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"Report of {self.day}"


class CrashDrill(models.Model):
    """A run of the crash lab: orders placed, the worker killed in the middle of them, then restarted."""

    created = models.DateTimeField(auto_now_add=True)
    order_ids = models.JSONField(default=list)
    killed_pids = models.JSONField(default=list)
    killed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Crash drill {self.pk}"
