"""One rule per situation where a workflow meets the caller's open transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from dbos_django import DBOS, SetWorkflowID
from dbos_django.error import DBOSException
from dbos_django.models import Workflow
from tests.app.models import Account, SideEffect
from tests.conftest import wait_for


@DBOS.step()
def note(key: str) -> str:
    SideEffect.objects.create(key=key)
    return key


@DBOS.workflow()
def noting(key: str) -> str:
    return note(key)


def test_start_workflow_in_atomic_writes_the_row_in_the_callers_transaction(dbos):
    with transaction.atomic():
        Account.objects.create(name="outbox")
        with SetWorkflowID("atomic-start"):
            handle = DBOS.start_workflow(noting, "after-commit")
        assert Workflow.objects.filter(workflow_id="atomic-start").exists()
        assert not SideEffect.objects.exists()  # nothing runs before the commit
    assert handle.get_result() == "after-commit"


def test_start_workflow_in_a_rolled_back_atomic_leaves_nothing(dbos):
    with pytest.raises(RuntimeError), transaction.atomic():
        with SetWorkflowID("atomic-rollback"):
            DBOS.start_workflow(noting, "never")
        raise RuntimeError("roll back")
    assert not Workflow.objects.filter(workflow_id="atomic-rollback").exists()
    DBOS.destroy(workflow_completion_timeout_sec=1)  # anything it might have started has run by now
    assert not SideEffect.objects.exists()


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_direct_call_in_atomic_on_sqlite_names_the_two_ways_out(dbos):
    with pytest.raises(DBOSException, match=r"start_workflow\(\).*non_atomic_requests"), transaction.atomic():
        noting("x")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True, databases=["default", "default__dbos_checkpoints"])
def test_a_direct_call_in_atomic_on_postgresql_checkpoints_durably_on_its_own(dbos):
    with pytest.raises(RuntimeError), transaction.atomic():
        with SetWorkflowID("atomic-direct"):
            assert noting("side") == "side"
        raise RuntimeError("the request fails")
    # The request's transaction rolled back (the step's own ORM write was in it)...
    assert not SideEffect.objects.exists()
    # ...but the workflow's checkpoints committed on their own connection.
    row = wait_for(lambda: Workflow.objects.filter(workflow_id="atomic-direct", status="SUCCESS").first())
    assert row.output == '"side"'
    assert DBOS.list_workflow_steps("atomic-direct")[0]["output"] == "side"


def test_a_transaction_alias_that_is_in_atomic_is_refused_even_in_a_workflow(dbos):
    @DBOS.transaction()
    def tx() -> None:
        Account.objects.create(name="nested")

    @DBOS.workflow()
    def wf() -> None:
        with transaction.atomic():
            tx()

    with pytest.raises(DBOSException, match="inside an open transaction.atomic"):
        wf()
    assert connection.in_atomic_block is False
