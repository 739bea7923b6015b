"""PostgreSQL LISTEN on a dedicated connection that reconnects after the server restarts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from django.db import connections

from . import connections as conns

logger = logging.getLogger("dbos_django")
CHANNELS = ("dbos_queue", "dbos_done", "dbos_message", "dbos_event", "dbos_stream")


def _connect(alias: str) -> psycopg.Connection:
    params = dict(connections[alias].get_connection_params())
    for key in ("cursor_factory", "context", "server_side_binding", "prepare_threshold", "pool"):
        params.pop(key, None)
    return psycopg.connect(**params, autocommit=True)


class Listener:
    """Deliver every notification on ``CHANNELS`` to ``on_notify(channel, payload)``.

    After a reconnection ``on_reconnect()`` runs: notifications sent meanwhile were lost, so
    whoever waits on them must look again.
    """

    def __init__(self, alias: str, on_notify: Callable[[str, str], None], on_reconnect: Callable[[], None]) -> None:
        self.alias = alias
        self.on_notify = on_notify
        self.on_reconnect = on_reconnect
        self._stop = threading.Event()
        self._conn: psycopg.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="dbos-listener", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

    def _run(self) -> None:
        delay = 0.1
        first = True
        while not self._stop.is_set():
            try:
                with _connect(self.alias) as conn:
                    for channel in CHANNELS:
                        conn.execute(f"LISTEN {channel}")
                    self.connected.set()
                    conns.outages.answered(self.alias)
                    if not first:
                        logger.info("Notification listener reconnected")
                        self.on_reconnect()
                    first, delay = False, 0.1
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self.on_notify(note.channel, note.payload)
            except Exception as exc:
                was_connected = self.connected.is_set()
                self.connected.clear()
                if self._stop.is_set():
                    return
                if was_connected:
                    logger.debug("Notification listener lost its connection (%s); reconnecting", exc)
                    continue  # at once: only a failed reconnection means the database is away
                # One line per outage for the whole process (not one per attempt).
                conns.outages.failed(self.alias, exc)
                logger.debug("Notification listener cannot connect (%s); retrying in %.1fs", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, conns.MAX_BACKOFF_SECONDS)
