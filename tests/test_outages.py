"""While the database is away a process says so once, waits, and carries on when it answers (PostgreSQL).

The soak (``make chaos``) restarts the server for real; here the server stays up (other tests use it):
an alias pointed at a port where nothing listens is a database that is away, and a backend killed
with ``pg_terminate_backend`` is a connection that a restart left broken.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from dbos_django import DBOS
from dbos_django.conf import get as get_settings
from dbos_django.engine import runtime as rt
from dbos_django.models import Executor, Workflow
from dbos_django.storage import connections as conns
from tests.conftest import wait_for

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'")
#: Declared in the test settings (a mirror of the test database): pytest-django lets a test use it.
PROBE = "default__dbos_checkpoints"


@pytest.fixture
def outages(monkeypatch: pytest.MonkeyPatch) -> conns.Outages:
    """A fresh record of outages for this test (the process-wide one is left as it was)."""
    fresh = conns.Outages()
    monkeypatch.setattr(conns, "outages", fresh)
    return fresh


@pytest.fixture
def away() -> Iterator[BaseDatabaseWrapper]:
    """This thread's connection of an alias of the test database, pointed at a port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    wrapper = connections[PROBE]
    original = wrapper.settings_dict
    wrapper.close()
    wrapper.settings_dict = {**original, "HOST": "127.0.0.1", "PORT": str(free_port)}
    try:
        yield wrapper
    finally:
        wrapper.close()
        wrapper.settings_dict = original


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "dbos_django" and r.levelno >= logging.WARNING]


def _select_one(conn: BaseDatabaseWrapper) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
        return int(cur.fetchone()[0])


@pytest.mark.django_db(transaction=True, databases=["default", PROBE])
def test_a_database_away_is_logged_once_then_its_return_once(
    away: BaseDatabaseWrapper, outages: conns.Outages, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dbos_django")
    real_port = connections["default"].settings_dict["PORT"] or "5432"

    def come_back() -> None:
        wait_for(lambda: outages.up_for(PROBE) == 0, timeout=10)
        time.sleep(1.5)  # several more attempts, with backoff
        away.settings_dict["PORT"] = real_port

    thread = threading.Thread(target=come_back)
    thread.start()
    assert conns.run(PROBE, _select_one) == 1
    thread.join()
    messages = _warnings(caplog)
    assert len(messages) == 2, messages
    assert messages[0].startswith(f"Database {PROBE!r} is unreachable")
    assert messages[1].startswith(f"Database {PROBE!r} answers again after")
    assert 0 <= outages.up_for(PROBE) < 5


def test_a_connection_broken_under_a_statement_is_replaced_without_a_warning(
    transactional_db: None, outages: conns.Outages, caplog: pytest.LogCaptureFixture
) -> None:
    connection.ensure_connection()
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (connection.connection.info.backend_pid,))
    assert conns.run("default", lambda conn: Workflow.objects.count()) == 0
    assert _warnings(caplog) == []
    assert outages.up_for("default") == float("inf")  # no outage: the server never went away


def test_no_worker_is_declared_dead_until_a_worker_timeout_after_the_database_came_back(
    dbos: type[DBOS], outages: conns.Outages
) -> None:
    # The database was away a moment ago: every other worker's heartbeat is old, but they may be alive.
    outages.failed("default", psycopg.OperationalError("the database system is shutting down"))
    outages.answered("default")
    now_ms = int(time.time() * 1000)
    silent_since = now_ms - int(get_settings().worker_timeout * 1000) - 1000
    Executor.objects.create(executor_id="silent", started_at=silent_since, heartbeat_at=silent_since)
    heartbeat = rt.current().heartbeat
    assert heartbeat is not None
    assert heartbeat.take_over_dead() == 0
    assert Executor.objects.filter(executor_id="silent").exists()
