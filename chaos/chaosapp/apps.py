"""The soak's app: its ``workflows`` module is what every ``dbos_worker`` of the soak runs."""

from __future__ import annotations

from django.apps import AppConfig


class ChaosAppConfig(AppConfig):
    name = "chaos.chaosapp"
    label = "chaosapp"
    default_auto_field = "django.db.models.BigAutoField"
