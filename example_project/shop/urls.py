from django.urls import path

from . import views

app_name = "shop"
urlpatterns = [
    path("", views.index, name="index"),
    path("orders/", views.place, name="place"),
    path("orders/<int:pk>/", views.order_page, name="order"),
    path("orders/<int:pk>/status.json", views.order_status, name="status"),
    path("orders/<int:pk>/progress", views.order_progress, name="progress"),
    path("orders/<int:pk>/pay", views.pay, name="pay"),
    path("webhooks/payment", views.payment_webhook, name="webhook"),
    path("crash-lab/", views.crash_lab, name="crash-lab"),
    path("crash-lab/start", views.crash_lab_start, name="crash-lab-start"),
]
