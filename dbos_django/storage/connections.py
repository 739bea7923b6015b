"""Which connection a checkpoint uses, and how a statement survives a dropped connection."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from . import vendor

T = TypeVar("T")
logger = logging.getLogger("dbos_django")
_side_lock = threading.Lock()
SIDE_SUFFIX = "__dbos_checkpoints"

#: Longest pause between two attempts while the database is unreachable: a restarted server is
#: seen by every thread within this long of its return.
MAX_BACKOFF_SECONDS = 2.0


class Outages:
    """Which databases this process cannot reach: one log line when one goes away, one when it is back.

    Every thread retrying a statement would otherwise log each attempt (dozens of lines per second
    of a restart); the first thread to fail on a fresh connection says it once for all of them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down: dict[str, float] = {}  # alias -> when it went away (monotonic)
        self._back: dict[str, float] = {}  # alias -> when it last came back

    def failed(self, alias: str, exc: BaseException) -> None:
        with self._lock:
            if alias in self._down:
                return
            self._down[alias] = time.monotonic()
        logger.warning("Database %r is unreachable (%s): waiting for it; work resumes when it answers",
                       alias, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)  # fmt: skip

    def answered(self, alias: str) -> None:
        if alias not in self._down:  # the hot path: one dict look-up
            return
        with self._lock:
            since = self._down.pop(alias, None)
            now = self._back[alias] = time.monotonic()
        if since is not None:
            logger.warning("Database %r answers again after %.1fs", alias, now - since)

    def up_for(self, alias: str) -> float:
        """Seconds since the database last came back (infinite if it never went away, 0 while it is away)."""
        with self._lock:
            if alias in self._down:
                return 0.0
            back = self._back.get(alias)
        return float("inf") if back is None else time.monotonic() - back


outages = Outages()


def side_alias(alias: str) -> str:
    """An alias for a second connection to the same database, independent of the caller's transaction."""
    name = alias + SIDE_SUFFIX
    if name not in connections.settings:
        with _side_lock:
            if name not in connections.settings:
                # The live settings dict already points at the test database under pytest-django.
                connections.settings[name] = dict(connections[alias].settings_dict)
    return name


def checkpoint_alias(alias: str) -> str | None:
    """Where a directly called workflow writes its checkpoints, or None if it cannot run here.

    Outside a transaction: the alias itself. Inside the caller's open ``atomic()``: on PostgreSQL
    a separate connection so checkpoints commit durably whatever the request does; on SQLite
    nothing can work (the request holds the single write lock), so None.
    """
    conn = connections[alias]
    if not conn.in_atomic_block:
        return alias
    if vendor.is_sqlite(conn):
        return None
    return side_alias(alias)


def run(alias: str, op: Callable[[BaseDatabaseWrapper], T], *, what: str = "database operation") -> T:
    """Run ``op`` on ``alias``'s connection, reconnecting and retrying while the database is unreachable.

    ``op`` must be safe to run again: either idempotent, or able to recognise its own earlier
    write when the acknowledgement of a commit was lost. Inside an open transaction nothing is
    retried (the transaction is gone with the connection).
    """
    from ..engine.aio import loop_running, run_blocking_off_loop

    if loop_running():
        # Django refuses ORM work on an event loop's thread: do it on a worker thread, and wait.
        return run_blocking_off_loop(lambda: run(alias, op, what=what))
    delay = 0.05
    while True:
        conn = connections[alias]
        fresh = conn.connection is None
        try:
            result = op(conn)
        except Exception as exc:
            if conn.in_atomic_block or not vendor.is_retriable(exc):
                raise
            if not vendor.is_connection_error(exc):
                logger.warning("%s failed (%s); retrying in %.2fs", what, exc, delay)  # SQLite's write lock
            else:
                try:
                    conn.close()
                except Exception:  # the connection is already broken
                    pass
                if not fresh:
                    # A connection opened before a restart fails on first use: try a new one at once,
                    # and speak of an outage only if that fails too.
                    logger.debug("%s: connection lost (%s); reconnecting", what, exc)
                    continue
                outages.failed(alias, exc)
                logger.debug("%s failed (%s); retrying in %.2fs", what, exc, delay)
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        else:
            outages.answered(alias)
            return result
