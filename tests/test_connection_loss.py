"""Every engine statement survives a dropped connection (PostgreSQL: the server kills our backend)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from dbos_django import DBOS, SetWorkflowID
from tests.app.models import Account

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'")


def _kill_backend(pid: int) -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


@DBOS.step()
def kill_my_connection() -> str:
    _kill_backend(_backend_pid())
    return "killed"


@DBOS.workflow()
def survives() -> str:
    first = kill_my_connection()  # its checkpoint meets a dead connection
    second = kill_my_connection()
    return f"{first}-{second}"


def test_checkpoints_reconnect_after_the_connection_is_killed(dbos):
    with SetWorkflowID("conn-1"):
        assert survives() == "killed-killed"
    assert [s["output"] for s in DBOS.list_workflow_steps("conn-1")] == ["killed", "killed"]
    assert DBOS.get_workflow_status("conn-1").status == "SUCCESS"


def test_a_transaction_whose_connection_drops_runs_again_exactly_once(dbos):
    attempts = []

    @DBOS.transaction(isolation_level="READ COMMITTED")
    def open_and_drop(name: str) -> int:
        Account.objects.create(name=name)
        attempts.append(1)
        if len(attempts) == 1:
            _kill_backend(_backend_pid())  # the commit cannot happen: the body runs again
        return Account.objects.filter(name=name).count()

    @DBOS.workflow()
    def wf() -> int:
        return open_and_drop("dropped")

    with SetWorkflowID("conn-2"):
        assert wf() == 1
    assert len(attempts) == 2
    assert Account.objects.filter(name="dropped").count() == 1
