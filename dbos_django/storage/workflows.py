"""Workflow rows: the start (one statement), the outcome (one guarded update), reads, recovery claims."""

from __future__ import annotations

from dataclasses import fields

from django.db.backends.base.base import BaseDatabaseWrapper

from ..models import Workflow
from . import connections as conns
from .records import ClaimedWorkflow, ExistingWorkflow, NewWorkflow, Outcome, Owner

TABLE = Workflow._meta.db_table
_NEW_COLUMNS = [f.name for f in fields(NewWorkflow)]
_INSERT_SQL = (
    f"INSERT INTO {TABLE} ({', '.join(_NEW_COLUMNS)}, updated_at) "
    f"VALUES ({', '.join(['%s'] * (len(_NEW_COLUMNS) + 1))}) ON CONFLICT (workflow_id) DO NOTHING"
)
_EXISTING_SQL = (
    "SELECT status, name, class_name, config_name, queue_name, owner_xid, workflow_deadline_epoch_ms, "
    f"output, error FROM {TABLE} WHERE workflow_id = %s"
)


def _insert(conn: BaseDatabaseWrapper, row: NewWorkflow) -> ExistingWorkflow | None:
    with conn.cursor() as cur:
        cur.execute(_INSERT_SQL, (*row.values(), row.created_at))
        if cur.rowcount == 1:
            return None
        cur.execute(_EXISTING_SQL, (row.workflow_id,))
        found = cur.fetchone()
    if found is None:  # deleted between the two statements: try again
        return _insert(conn, row)
    existing = ExistingWorkflow(*found)
    if row.owner_xid is not None and existing.owner_xid == row.owner_xid:
        return None  # our own insert, whose acknowledgement was lost and retried
    return existing


def insert(alias: str, row: NewWorkflow) -> ExistingWorkflow | None:
    """Insert a workflow row; return None if this call created it, else what already holds the id."""
    return conns.run(alias, lambda conn: _insert(conn, row), what=f"starting workflow {row.workflow_id}")


_OUTCOME_SQL = (
    f"UPDATE {TABLE} SET status = %s, output = %s, error = %s, updated_at = %s, completed_at = %s, "
    "deduplication_id = NULL WHERE workflow_id = %s AND status = 'PENDING' AND owner_epoch = %s"
)


def record_outcome(owner: Owner, status: str, output: str | None, error: str | None, now_ms: int) -> bool:
    """Finish a PENDING workflow; False if it is no longer ours (cancelled, resumed, taken over, deleted...)."""

    def op(conn: BaseDatabaseWrapper) -> bool:
        with conn.cursor() as cur:
            cur.execute(_OUTCOME_SQL, (status, output, error, now_ms, now_ms, owner.workflow_id, owner.epoch))
            return cur.rowcount == 1

    return conns.run(owner.alias, op, what=f"recording the outcome of workflow {owner.workflow_id}")


def read_outcome(alias: str, workflow_id: str) -> Outcome | None:
    """The status, output and error of a workflow, or None if there is no such row."""

    def op(conn: BaseDatabaseWrapper) -> Outcome | None:
        with conn.cursor() as cur:
            cur.execute(f"SELECT status, output, error, serialization FROM {TABLE} WHERE workflow_id = %s",
                        (workflow_id,))  # fmt: skip
            row = cur.fetchone()
        return Outcome(*row) if row else None

    return conns.run(alias, op, what=f"reading workflow {workflow_id}")


def get(alias: str, workflow_id: str) -> Workflow | None:
    return conns.run(alias, lambda conn: Workflow.objects.using(alias).filter(workflow_id=workflow_id).first())


def pending_ids(alias: str, executor_id: str, application_version: str) -> list[str]:
    """PENDING workflows this executor owned under this application version, oldest first."""
    query = Workflow.objects.using(alias).filter(
        status="PENDING", executor_id=executor_id, application_version=application_version
    )
    return conns.run(alias, lambda conn: list(query.order_by("created_at").values_list("workflow_id", flat=True)))


_CLAIM_SQL = (
    f"UPDATE {TABLE} SET recovery_attempts = recovery_attempts + 1, executor_id = %s, updated_at = %s "
    "WHERE workflow_id = %s AND status = 'PENDING' RETURNING workflow_id, name, class_name, config_name, "
    "inputs, serialization, recovery_attempts, workflow_deadline_epoch_ms"
)


def claim_for_recovery(alias: str, workflow_id: str, executor_id: str, now_ms: int) -> ClaimedWorkflow | None:
    """Count one more attempt on a PENDING workflow and take it; None if it is not PENDING."""

    def op(conn: BaseDatabaseWrapper) -> ClaimedWorkflow | None:
        with conn.cursor() as cur:
            cur.execute(_CLAIM_SQL, (executor_id, now_ms, workflow_id))
            row = cur.fetchone()
        return ClaimedWorkflow(*row) if row else None

    return conns.run(alias, op, what=f"recovering workflow {workflow_id}")


def dead_letter(alias: str, workflow_id: str, now_ms: int) -> None:
    """Mark a workflow that exceeded its recovery attempts."""
    query = Workflow.objects.using(alias).filter(workflow_id=workflow_id, status="PENDING")
    conns.run(alias, lambda conn: query.update(
        status="MAX_RECOVERY_ATTEMPTS_EXCEEDED", updated_at=now_ms, completed_at=now_ms,
        deduplication_id=None, queue_name=None,
    ))  # fmt: skip
