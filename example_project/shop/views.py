"""The shop's pages: place an order, watch it live, pay for it; the payment webhook; the crash lab."""

from __future__ import annotations

import json
import threading
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import close_old_connections
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from dbos_django import DBOS
from dbos_django.views import workflow_stream_view

from . import drill, payments
from .models import CrashDrill, Order, Product
from .orders import deliver_payment, place_order

SESSION_KEY = "shop_orders"
DRILL_SIZES = (10, 20, 50)


def catalogue() -> QuerySet[Product]:
    """The products customers may order (not the crash lab's)."""
    return Product.objects.exclude(sku=drill.DRILL_PRODUCT).order_by("name")


class OrderForm(forms.Form):
    product = forms.ModelChoiceField(queryset=catalogue())
    quantity = forms.IntegerField(min_value=1, max_value=10, initial=1)
    email = forms.EmailField(initial="you@example.com")


def owns_order(request: HttpRequest, workflow_id: str) -> bool:
    """Staff see every order; a customer sees the orders placed in their own session."""
    if request.user.is_staff:
        return True
    return workflow_id in {f"order-{pk}" for pk in request.session.get(SESSION_KEY, [])}


def _own_order(request: HttpRequest, pk: int) -> Order:
    order = get_object_or_404(Order.objects.select_related("product"), pk=pk)
    if not owns_order(request, order.workflow_id):
        raise Http404("No such order")  # not 403: do not confirm that someone else's order exists
    return order


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    mine = Order.objects.filter(pk__in=request.session.get(SESSION_KEY, [])).select_related("product")
    return render(request, "shop/index.html", {"form": OrderForm(), "products": catalogue(), "orders": mine[:10]})


@require_POST
def place(request: HttpRequest) -> HttpResponse:
    form = OrderForm(request.POST)
    if not form.is_valid():
        return render(request, "shop/index.html", {"form": form, "products": catalogue(), "orders": []}, status=400)
    order = place_order(form.cleaned_data["product"], form.cleaned_data["email"], form.cleaned_data["quantity"])
    request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []), order.pk]
    return redirect("shop:order", pk=order.pk)


@require_GET
def order_page(request: HttpRequest, pk: int) -> HttpResponse:
    order = _own_order(request, pk)
    return render(request, "shop/order.html", {"order": order, "timeout": settings.SHOP_PAYMENT_TIMEOUT_SECONDS})


@require_GET
def order_status(request: HttpRequest, pk: int) -> JsonResponse:
    order = _own_order(request, pk)
    events = DBOS.get_all_events(order.workflow_id)
    return JsonResponse({"order": order.pk, "status": order.status, "tracking_number": order.tracking_number,
                         "events": events})  # fmt: skip


_progress = workflow_stream_view("progress", access_check=owns_order)


@require_GET
def order_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The order's timeline as Server-Sent Events (the page's EventSource reads it)."""
    return _progress(request, workflow_id=f"order-{pk}")


@require_POST
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    """The provider's hosted payment page, faked: it sends the shop the event its webhook would receive."""
    order = _own_order(request, pk)
    deliver_payment(payments.payment_event(order, succeeded=request.POST.get("outcome") != "declined"))
    return redirect("shop:order", pk=order.pk)


@csrf_exempt  # the provider cannot have a CSRF token; the signature authenticates it instead
@require_POST
def payment_webhook(request: HttpRequest) -> HttpResponse:
    """``POST /webhooks/payment``: a signed event from the payment provider, delivered to the order's workflow."""
    if not payments.verified(request.body, request.headers.get("X-Signature", "")):
        return HttpResponseForbidden("bad signature")
    try:
        event = json.loads(request.body)
        order = deliver_payment(event)
    except (ValueError, AttributeError):
        return JsonResponse({"error": "not a payment event"}, status=400)
    except Order.DoesNotExist:
        return JsonResponse({"error": "unknown order"}, status=404)
    return JsonResponse({"delivered": event["id"], "order": order.pk})


@staff_member_required
@require_GET
def crash_lab(request: HttpRequest) -> HttpResponse:
    drills = [(d, drill.report(d.order_ids)) for d in CrashDrill.objects.all()[:5]]
    running = any(not rep.done for _, rep in drills)
    context: dict[str, Any] = {"drills": drills, "running": running, "sizes": DRILL_SIZES,
                               "supervised": settings.SHOP_CRASH_LAB, "workers": drill.local_workers()}  # fmt: skip
    return render(request, "shop/crash_lab.html", context)


@staff_member_required
@require_POST
def crash_lab_start(request: HttpRequest) -> HttpResponse:
    """Place paid orders, then kill the worker in the middle of them (``make demo`` restarts it)."""
    if not settings.SHOP_CRASH_LAB:
        return HttpResponseForbidden("The crash lab runs only under `make demo`, which restarts the worker it kills.")
    size = int(request.POST.get("size", DRILL_SIZES[0]))
    if size not in DRILL_SIZES:
        return HttpResponse(f"size must be one of {DRILL_SIZES}", status=400)
    run = CrashDrill.objects.create(order_ids=drill.place_paid_orders(size))
    threading.Thread(target=_kill_in_background, args=(run,), daemon=True).start()
    messages.info(request, f"Placed {size} paid orders; the worker will be killed in the middle of them.")
    return redirect("shop:crash-lab")


def _kill_in_background(run: CrashDrill) -> None:
    try:
        drill.kill_when_busy(run)
    finally:
        close_old_connections()
