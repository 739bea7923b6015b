"""The hot path, pinned: an N-step workflow costs N+2 statements (and N+2 commits)."""

from __future__ import annotations

from dbos_django import DBOS


@DBOS.step()
def noop_step(x: int) -> int:
    return x


@DBOS.workflow()
def three_noop_steps() -> int:
    return noop_step(1) + noop_step(2) + noop_step(3)


@DBOS.workflow()
def no_steps() -> int:
    return 0


@DBOS.transaction()
def tx_noop() -> int:
    return 1


@DBOS.workflow()
def one_transaction() -> int:
    return tx_noop()


def test_a_three_step_workflow_costs_five_statements(dbos, django_assert_num_queries):
    three_noop_steps()  # warm up
    with django_assert_num_queries(5):
        three_noop_steps()


def test_a_workflow_without_steps_costs_two_statements(dbos, django_assert_num_queries):
    with django_assert_num_queries(2):
        no_steps()


def test_a_transaction_step_commits_its_checkpoint_with_the_users_writes(dbos):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        one_transaction()
    statements = [q["sql"].split(" (")[0] for q in captured.captured_queries]
    isolation = ["SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"] if connection.vendor == "postgresql" else []
    begin = "BEGIN IMMEDIATE" if connection.vendor == "sqlite" else "BEGIN"
    # Three commits: the start, the user's transaction holding its checkpoint, the outcome.
    assert [s for s in statements if s not in (begin, "COMMIT")] == [
        "INSERT INTO dbos_workflow_status",
        *isolation,
        "INSERT INTO dbos_step_output",
        statements[-1],
    ]
    assert statements[-1].startswith("UPDATE dbos_workflow_status")
    assert statements.count("COMMIT") <= 1


def test_a_recovered_or_replayed_workflow_reads_its_checkpoints_once(dbos, django_assert_num_queries):
    from dbos_django import SetWorkflowID

    with SetWorkflowID("counted"):
        three_noop_steps()
    # A finished id: the insert finds the row and reads it (2), then the outcome is read (1).
    with SetWorkflowID("counted"), django_assert_num_queries(3):
        three_noop_steps()
