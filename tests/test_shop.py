"""The example project's shop: its order pipeline, webhook, pages and crash lab, as a user would test them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from django.test import Client, override_settings

from dbos_django import DBOS
from example_project.shop import drill, payments
from example_project.shop.models import Charge, DailyReport, Ledger, Order, Product
from example_project.shop.orders import deliver_payment, place_order
from example_project.shop.workflows import checkout

pytestmark = [pytest.mark.django_db, pytest.mark.urls("example_project.urls")]

NO_OUTAGES = override_settings(SHOP_GATEWAY_FAILURE_RATE=0.0, SHOP_PACKING_SECONDS=0.0)


@pytest.fixture
def product() -> Product:
    return Product.objects.create(sku="test-mug", name="Test mug", price_cents=1500, stock=5)


def actions(order: Order) -> list[str]:
    return list(Ledger.objects.filter(order=order).values_list("action", flat=True))


def pay(order: Order, *, succeeded: bool = True) -> None:
    deliver_payment(payments.payment_event(order, succeeded=succeeded))


@NO_OUTAGES
def test_a_paid_order_ships_and_records_each_effect_once(dbos_runtime, product):
    order = place_order(product, "ann@example.com", quantity=2)
    pay(order)
    dbos_runtime.drain()
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == ("shipped", f"TRK{order.pk:08d}")
    assert actions(order) == ["stock reserved", f"paid (ch_{order.charges.get().pk})", f"shipped (TRK{order.pk:08d})"]
    assert Product.objects.get(pk=product.pk).stock == 3
    assert DBOS.retrieve_workflow(order.workflow_id).get_result() == "shipped"


@NO_OUTAGES
def test_an_unpaid_order_is_cancelled_after_the_timeout_and_its_stock_released(dbos_runtime, product, settings):
    order = place_order(product, "ann@example.com", quantity=2)
    dbos_runtime.drain()
    dbos_runtime.advance(settings.SHOP_PAYMENT_TIMEOUT_SECONDS)
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert Product.objects.get(pk=product.pk).stock == 5
    assert actions(order) == ["stock reserved", "stock released: cancelled"]


@NO_OUTAGES
def test_a_declined_card_cancels_the_order_and_charges_nothing(dbos_runtime, product):
    order = place_order(product, "ann@example.com")
    pay(order, succeeded=False)
    dbos_runtime.drain()
    assert Order.objects.get(pk=order.pk).status == "payment_failed"
    assert not Charge.objects.filter(order=order).exists()
    assert Product.objects.get(pk=product.pk).stock == 5


@override_settings(SHOP_GATEWAY_FAILURE_RATE=1.0)
def test_a_provider_down_through_every_retry_fails_the_payment_and_releases_the_stock(dbos_runtime, product):
    order = place_order(product, "ann@example.com")
    pay(order)
    dbos_runtime.drain()
    assert Order.objects.get(pk=order.pk).status == "payment_failed"
    assert Product.objects.get(pk=product.pk).stock == 5


@NO_OUTAGES
def test_an_order_beyond_the_stock_is_rejected(dbos_runtime, product):
    order = place_order(product, "ann@example.com", quantity=6)
    dbos_runtime.drain()
    assert Order.objects.get(pk=order.pk).status == "rejected"
    assert Product.objects.get(pk=product.pk).stock == 5


@NO_OUTAGES
def test_a_crash_while_waiting_for_the_payment_resumes_and_ships_once(dbos_runtime, product):
    order = Order.objects.create(product=product, email="ann@example.com")
    # Steps 1-5: the first progress event, reserve_stock, the second progress event; then recv would wait.
    dbos_runtime.simulate_crash(checkout, order.pk, after_step=5, workflow_id=order.workflow_id)
    assert DBOS.get_workflow_status(order.workflow_id).status == "PENDING"
    pay(order)
    dbos_runtime.recover()
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert actions(order).count("stock reserved") == 1
    assert Product.objects.get(pk=product.pk).stock == 4


@NO_OUTAGES
def test_charging_again_with_the_same_idempotency_key_charges_once(product):
    from example_project.shop.workflows import charge_card

    order = Order.objects.create(product=product, email="ann@example.com")
    first = charge_card(order.pk, "tok_visa")  # a step re-run after its checkpoint was lost sends the same key
    assert charge_card(order.pk, "tok_visa") == first
    assert (Charge.objects.get(order=order).requests, Charge.objects.count()) == (2, 1)


@NO_OUTAGES
def test_an_order_placed_in_a_rolled_back_transaction_leaves_no_workflow(dbos_runtime, product):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        order = place_order(product, "ann@example.com")
        raise RuntimeError("the view failed after placing the order")
    assert DBOS.get_workflow_status(order.workflow_id) is None


@NO_OUTAGES
def test_a_payment_delivered_twice_is_received_once(dbos_runtime, product):
    first, second = Product.objects.create(sku="other", name="Other", price_cents=100, stock=5), product
    order = place_order(second, "ann@example.com")
    event = payments.payment_event(order)
    deliver_payment(event)
    deliver_payment(event)  # the provider retried its webhook
    dbos_runtime.drain()
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert first.orders.count() == 0


def test_a_webhook_with_a_bad_signature_is_refused(client, product):
    order = Order.objects.create(product=product, email="ann@example.com")
    body, _ = payments.signed(payments.payment_event(order))
    response = client.post("/webhooks/payment", body, content_type="application/json", HTTP_X_SIGNATURE="forged")
    assert response.status_code == 403


def test_a_signed_webhook_for_an_unknown_order_is_a_404(client):
    body, signature = payments.signed({"id": "evt_1", "type": payments.SUCCEEDED, "order": 999999})
    response = client.post("/webhooks/payment", body, content_type="application/json", HTTP_X_SIGNATURE=signature)
    assert response.status_code == 404


def test_a_signed_webhook_that_is_not_a_payment_is_a_400(client):
    body, signature = payments.signed({"id": "evt_1", "type": "customer.created"})
    response = client.post("/webhooks/payment", body, content_type="application/json", HTTP_X_SIGNATURE=signature)
    assert response.status_code == 400


@NO_OUTAGES
def test_a_signed_webhook_reaches_the_orders_workflow(client, dbos_runtime, product):
    order = place_order(product, "ann@example.com")
    body, signature = payments.signed(payments.payment_event(order))
    response = client.post("/webhooks/payment", body, content_type="application/json", HTTP_X_SIGNATURE=signature)
    assert response.status_code == 200
    dbos_runtime.drain()
    assert Order.objects.get(pk=order.pk).status == "shipped"


@NO_OUTAGES
def test_placing_an_order_through_the_page_shows_it_to_its_customer(client, dbos_runtime, product):
    response = client.post("/orders/", {"product": product.pk, "quantity": 1, "email": "ann@example.com"})
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == f"/orders/{order.pk}/"
    assert client.get(response.url).status_code == 200
    assert Client().get(response.url).status_code == 404  # another session does not see it


def test_an_invalid_order_form_is_shown_again_with_its_errors(client, product):
    response = client.post("/orders/", {"product": product.pk, "quantity": 0, "email": "not-an-email"})
    assert response.status_code == 400
    assert not Order.objects.exists()


def shipped_through_the_pages(client: Client, dbos_runtime, product: Product) -> Order:
    """An order placed with the shop's form (so this session owns it), paid, run to its end."""
    client.post("/orders/", {"product": product.pk, "quantity": 1, "email": "ann@example.com"})
    order = Order.objects.get()
    pay(order)
    dbos_runtime.drain()
    return order


@NO_OUTAGES
def test_the_order_page_streams_the_workflows_progress(client, dbos_runtime, product):
    order = shipped_through_the_pages(client, dbos_runtime, product)
    response = client.get(f"/orders/{order.pk}/progress")
    frames = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/event-stream"
    assert '"status":"placed"' in frames and '"status":"shipped"' in frames and "event: end" in frames
    assert Client().get(f"/orders/{order.pk}/progress").status_code == 403


@NO_OUTAGES
def test_the_status_json_shows_the_workflows_events(client, dbos_runtime, product):
    order = shipped_through_the_pages(client, dbos_runtime, product)
    body = json.loads(client.get(f"/orders/{order.pk}/status.json").content)
    assert body == {"order": order.pk, "status": "shipped", "tracking_number": f"TRK{order.pk:08d}",
                    "events": {"status": "shipped"}}  # fmt: skip


@NO_OUTAGES
def test_the_nightly_report_counts_the_day_before_its_tick(dbos_runtime, product):
    from example_project.shop.workflows import nightly_report

    order = place_order(product, "ann@example.com")
    pay(order)
    dbos_runtime.drain()
    day = order.created.astimezone(UTC).date()
    tick = datetime.combine(day + timedelta(days=1), time(2), tzinfo=UTC)
    assert nightly_report(tick, tick) == {"orders": 1, "shipped": 1, "cancelled": 0, "revenue_cents": 1500}
    assert DailyReport.objects.get(day=day).revenue_cents == 1500


def test_the_crash_lab_is_for_staff_only(client):
    assert client.get("/crash-lab/").status_code == 302  # to the admin's login page
    assert client.post("/crash-lab/start", {"size": 10}).status_code == 302
    assert not Order.objects.exists()


def test_the_crash_lab_kills_nothing_outside_make_demo(admin_client):
    response = admin_client.post("/crash-lab/start", {"size": 10})
    assert response.status_code == 403
    assert not Order.objects.exists()


@override_settings(SHOP_CRASH_LAB=True)
def test_the_crash_lab_refuses_a_size_it_does_not_offer(admin_client):
    assert admin_client.post("/crash-lab/start", {"size": 100000}).status_code == 400
    assert not Order.objects.exists()


@NO_OUTAGES
def test_the_drill_report_finds_an_effect_recorded_twice(dbos_runtime, product):
    order = place_order(product, "ann@example.com")
    pay(order)
    dbos_runtime.drain()
    assert drill.report([order.pk]).ok
    Ledger.objects.create(order=order, workflow_id=order.workflow_id, action="stock reserved")
    assert drill.report([order.pk]).duplicated_effects == [f"order {order.pk}: stock reserved x2"]
    assert not drill.report([order.pk]).ok
