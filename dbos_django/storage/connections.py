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

#: Longest pause between two attempts while the database is unreachable.
MAX_BACKOFF_SECONDS = 10.0


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
        try:
            return op(conn)
        except Exception as exc:
            if conn.in_atomic_block or not vendor.is_retriable(exc):
                raise
            logger.warning("%s failed (%s); retrying in %.2fs", what, exc, delay)
            if vendor.is_connection_error(exc):
                try:
                    conn.close()
                except Exception:  # the connection is already broken
                    pass
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
