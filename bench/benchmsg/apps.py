"""The messaging benchmarks' Django app: its ``workflows`` module is what the receiving ``dbos_worker`` runs."""

from __future__ import annotations

from django.apps import AppConfig


class BenchMsgConfig(AppConfig):
    name = "benchmsg"
    default_auto_field = "django.db.models.BigAutoField"
