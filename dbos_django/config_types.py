"""``DBOSConfig``: the dict DBOS takes in ``DBOS(config=...)``, kept for code written for DBOS."""

from __future__ import annotations

from typing import Any, TypedDict


class DBOSConfig(TypedDict, total=False):
    """DBOS's configuration keys; see ``conf.CONFIG_KEYS`` for where each lands in the ``DBOS`` setting."""

    name: str
    application_version: str
    executor_id: str
    max_executor_threads: int
    serializer: Any
    notification_listener_polling_interval_sec: float
    log_level: str
    system_database_url: str
    application_database_url: str
    database_url: str
