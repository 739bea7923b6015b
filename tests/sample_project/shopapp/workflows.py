from dbos_django import DBOS, Queue

from .models import Order

fulfilment = Queue("fulfilment")


@DBOS.step()
def charge(order_id: int) -> str:
    return f"charged-{order_id}"


@DBOS.transaction()
def mark(order_id: int, status: str) -> None:
    Order.objects.filter(pk=order_id).update(status=status)


@DBOS.workflow()
def fulfil(order_id: int) -> str:
    receipt = charge(order_id)
    DBOS.sleep(24 * 3600)  # wait a day before shipping
    mark(order_id, "shipped")
    return receipt
