from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Charge, DailyReport, Ledger, Order, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "sku", "price_cents", "stock"]


class LedgerInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Ledger
    fields = ["created", "action", "workflow_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "product", "quantity", "email", "status", "tracking_number", "created", "workflow"]
    list_filter = ["status", "product"]
    search_fields = ["email", "tracking_number"]
    readonly_fields = ["status", "tracking_number", "created", "updated", "workflow"]
    inlines = [LedgerInline]

    @admin.display(description="workflow")
    def workflow(self, order: Order) -> str:
        url = reverse("admin:dbos_django_workflow_change", args=[order.workflow_id])
        return format_html('<a href="{}">{}</a>', url, order.workflow_id)


@admin.register(Ledger)
class LedgerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created", "order", "action", "workflow_id"]
    search_fields = ["workflow_id", "action"]


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["idempotency_key", "order", "amount_cents", "requests", "created"]


@admin.register(DailyReport)
class DailyReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["day", "orders", "shipped", "cancelled", "revenue_cents", "created"]
