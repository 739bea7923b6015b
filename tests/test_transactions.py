"""@DBOS.transaction: the body and its checkpoint commit together, exactly once."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from dbos_django import DBOS, SetWorkflowID
from dbos_django.error import DBOSException
from dbos_django.models import StepOutput, Workflow
from tests.app.models import Account


@DBOS.transaction()
def open_account(name: str, balance: int) -> int:
    return Account.objects.create(name=name, balance=balance).pk


@DBOS.transaction()
def open_then_fail(name: str) -> None:
    Account.objects.create(name=name)
    raise ValueError("rolled back")


@DBOS.workflow()
def onboarding(name: str) -> int:
    return open_account(name, 10)


def test_a_transaction_commits_its_writes_and_its_checkpoint(dbos):
    with SetWorkflowID("tx-commit"):
        pk = onboarding("ada")
    assert Account.objects.get(pk=pk).name == "ada"
    step = StepOutput.objects.get(workflow_id="tx-commit", function_id=1)
    assert step.function_name == open_account.__qualname__


def test_a_failing_transaction_rolls_back_and_records_the_error(dbos):
    @DBOS.workflow()
    def wf() -> str:
        try:
            open_then_fail("bob")
        except ValueError as exc:
            return str(exc)
        return "no error"

    with SetWorkflowID("tx-fail"):
        assert wf() == "rolled back"
    assert not Account.objects.filter(name="bob").exists()
    assert isinstance(DBOS.list_workflow_steps("tx-fail")[0]["error"], ValueError)


def test_a_transaction_runs_once_per_workflow_id(dbos):
    with SetWorkflowID("tx-once"):
        first = onboarding("cy")
    with SetWorkflowID("tx-once"):
        assert onboarding("cy") == first
    assert Account.objects.filter(name="cy").count() == 1


def test_a_bare_transaction_runs_as_a_temporary_workflow(dbos):
    with SetWorkflowID("tx-bare"):
        open_account("dee", 1)
    row = Workflow.objects.get(workflow_id="tx-bare")
    assert row.name == f"<temp>.{open_account.__qualname__}"
    assert row.status == "SUCCESS"


def test_a_transaction_inside_an_open_atomic_block_is_refused(dbos):
    with pytest.raises(DBOSException, match="inside an open transaction.atomic"), transaction.atomic():
        open_account("eve", 1)
    assert not Account.objects.filter(name="eve").exists()


def test_async_transactions_are_refused_at_decoration():
    with pytest.raises(DBOSException, match="sync functions only"):

        @DBOS.transaction()
        async def nope() -> None: ...


def test_an_unknown_isolation_level_is_refused_at_decoration():
    with pytest.raises(DBOSException, match="isolation_level"):

        @DBOS.transaction(isolation_level="CHAOS")
        def nope() -> None: ...


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_transactions_run_serializable_by_default_on_postgresql(dbos):
    @DBOS.transaction()
    def isolation() -> str:
        with connection.cursor() as cur:
            cur.execute("SHOW transaction_isolation")
            return cur.fetchone()[0]

    @DBOS.transaction(isolation_level="READ COMMITTED")
    def read_committed() -> str:
        with connection.cursor() as cur:
            cur.execute("SHOW transaction_isolation")
            return cur.fetchone()[0]

    @DBOS.workflow()
    def wf() -> tuple[str, str]:
        return isolation(), read_committed()

    assert wf() == ("serializable", "read committed")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_serialization_failures_are_retried(dbos):
    """Two workflows increment one row under SERIALIZABLE at once: both land, none is lost."""
    import threading

    Account.objects.create(name="shared", balance=0)
    barrier = threading.Barrier(2)

    @DBOS.transaction()
    def increment() -> int:
        account = Account.objects.get(name="shared")
        try:
            barrier.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass  # the retry runs alone
        account.balance += 1
        account.save()
        return account.balance

    @DBOS.workflow()
    def wf() -> int:
        return increment()

    handles = [DBOS.start_workflow(wf) for _ in range(2)]
    assert sorted(h.get_result() for h in handles) == [1, 2]
    assert Account.objects.get(name="shared").balance == 2
