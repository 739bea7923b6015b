import pytest
from shopapp.models import Order
from shopapp.workflows import fulfil, fulfilment

from dbos_django import DBOS


@pytest.mark.django_db
def test_an_order_is_shipped_a_day_later(dbos_runtime):
    order = Order.objects.create()
    before = dbos_runtime.clock.now_ms()
    assert fulfil(order.pk) == f"charged-{order.pk}"
    order.refresh_from_db()
    assert order.status == "shipped"
    assert dbos_runtime.clock.now_ms() - before == 24 * 3600 * 1000


@pytest.mark.django_db
def test_enqueued_orders_run_when_drained(dbos_runtime):
    orders = [Order.objects.create() for _ in range(3)]
    handles = [fulfilment.enqueue(fulfil, o.pk) for o in orders]
    assert dbos_runtime.drain() == 3
    assert [h.get_result() for h in handles] == [f"charged-{o.pk}" for o in orders]
    assert set(Order.objects.values_list("status", flat=True)) == {"shipped"}


@pytest.mark.django_db
def test_a_crash_after_charging_resumes_without_charging_again(dbos_runtime):
    order = Order.objects.create()
    workflow_id = dbos_runtime.simulate_crash(fulfil, order.pk, after_step=1)
    assert DBOS.get_workflow_status(workflow_id).status == "PENDING"
    dbos_runtime.recover()
    assert DBOS.get_workflow_status(workflow_id).status == "SUCCESS"
    assert [s["function_name"] for s in DBOS.list_workflow_steps(workflow_id)][0] == "charge"
