"""The queue benchmarks' Django app: its ``workflows`` module is what every ``dbos_worker`` runs."""

from __future__ import annotations

from django.apps import AppConfig


class BenchQueueConfig(AppConfig):
    name = "benchqueue"
    default_auto_field = "django.db.models.BigAutoField"
