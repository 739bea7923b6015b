"""``DBOSConfig``: the dict DBOS takes in ``DBOS(config=...)``, kept for code written for DBOS."""

from __future__ import annotations

from typing import Any, TypedDict


class DBOSConfig(TypedDict, total=False):
    """DBOS's configuration dict for ``DBOS(config=...)``: its keys override the ``DBOS`` setting until ``destroy()``.

    ``name`` sets ``APPLICATION_NAME``; ``application_version``, ``executor_id``, ``log_level`` and
    ``enable_patching`` set their upper-case namesakes; ``max_executor_threads`` sets ``MAX_THREADS``,
    ``serializer`` ``SERIALIZER`` and ``notification_listener_polling_interval_sec`` ``POLLING_INTERVAL``. The
    database URLs, and DBOS keys dbos_django does not implement, are ignored with a warning: the database is
    Django's. ``DBOS(config=...)`` raises ``DBOSInitializationError`` for an unknown key or an invalid value.
    """

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
