from __future__ import annotations

from django.apps import AppConfig


class DBOSDjangoConfig(AppConfig):
    """Registers models, system checks and settings signals. Starts nothing: see ``DBOS.launch()``."""

    name = "dbos_django"
    verbose_name = "DBOS workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, conf  # noqa: F401  (registers checks and the setting_changed receiver)
