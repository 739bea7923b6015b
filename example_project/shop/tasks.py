"""The confirmation e-mail, as a task of Django's task framework (run durably by dbos_django's backend)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail

from .models import Order

try:
    from django.tasks import task
except ImportError:  # Django 5.2: the backport
    try:
        from django_tasks import task  # type: ignore[no-redef]
    except ImportError as exc:
        raise ImproperlyConfigured(
            "The example shop e-mails through Django's task framework: on Django 5.2, install the backport "
            'with `pip install "dbos-django[tasks]"`'
        ) from exc


@task(queue_name="emails")
def send_order_email(order_id: int) -> int:
    """E-mail the customer that the order has shipped (at-least-once, like any e-mail: see docs/concepts.md)."""
    order = Order.objects.select_related("product").get(pk=order_id)
    return send_mail(
        subject=f"Your order {order.pk} has shipped",
        message=f"{order.quantity} x {order.product.name}, tracking number {order.tracking_number}.",
        from_email=None,
        recipient_list=[order.email],
    )
