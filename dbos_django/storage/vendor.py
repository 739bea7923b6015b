"""The few places where SQLite and PostgreSQL differ, in one module."""

from __future__ import annotations

from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

# SQLSTATE classes that mean "the connection or the server went away".
_CONNECTION_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")
_SERIALIZATION_SQLSTATES = ("40001", "40P01")


def is_sqlite(conn: BaseDatabaseWrapper) -> bool:
    return conn.vendor == "sqlite"


def insertion_order(conn: BaseDatabaseWrapper) -> str:
    """The column that orders workflow rows as they were inserted (ties of ``created_at``, one millisecond).

    SQLite's ``rowid``; on PostgreSQL an identity column that only migration 0008 knows about.
    """
    return "enqueue_seq" if is_postgres(conn) else "rowid"


def is_postgres(conn: BaseDatabaseWrapper) -> bool:
    return conn.vendor == "postgresql"


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None)


def is_locked(exc: BaseException) -> bool:
    """SQLite's single write lock was busy past the timeout."""
    text = str(exc)
    return "database is locked" in text or "database table is locked" in text


def is_connection_error(exc: BaseException) -> bool:
    """The connection dropped or the server is unreachable: safe to reconnect and retry."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    state = _sqlstate(exc)
    if state is None:
        # psycopg raises connection failures without a SQLSTATE.
        return not is_locked(exc) and "sqlite" not in type(exc.__cause__ or exc).__module__
    return state.startswith(_CONNECTION_SQLSTATES)


def is_retriable(exc: BaseException) -> bool:
    """An engine statement failing with this may be retried as a whole."""
    return is_connection_error(exc) or (isinstance(exc, OperationalError) and is_locked(exc))


def is_serialization_failure(exc: BaseException) -> bool:
    """A transaction lost a serialization race or a deadlock (or SQLite was locked): run it again."""
    if not isinstance(exc, DatabaseError):
        return False
    return _sqlstate(exc) in _SERIALIZATION_SQLSTATES or is_locked(exc)


def set_isolation_sql(conn: BaseDatabaseWrapper, isolation_level: str) -> str | None:
    """The statement that sets a transaction's isolation level, where the database has one."""
    if is_postgres(conn):
        return f"SET TRANSACTION ISOLATION LEVEL {isolation_level}"
    return None
