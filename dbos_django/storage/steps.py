"""Step checkpoints: one conditional INSERT per step on the happy path, one read to replay."""

from __future__ import annotations

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from ..error import DBOSNonExistentWorkflowError, DBOSWorkflowCancelledError, DBOSWorkflowConflictIDError
from ..models import StepOutput, TransactionOutput, Workflow
from . import connections as conns
from .records import NewWorkflow, Owner, StepRecord
from .workflows import _insert as insert_workflow_row

TABLE = StepOutput._meta.db_table
WF_TABLE = Workflow._meta.db_table
_COLUMNS = "function_id, function_name, output, error, child_workflow_id, started_at_epoch_ms, completed_at_epoch_ms"
# Written only while the workflow is PENDING and owned by the writer's epoch: a cancelled, finished,
# deleted or taken-over workflow records nothing.
_RECORD_SQL = (
    f"INSERT INTO {TABLE} (workflow_id, {_COLUMNS}) SELECT %s, %s, %s, %s, %s, %s, %s, %s "
    f"WHERE EXISTS (SELECT 1 FROM {WF_TABLE} WHERE workflow_id = %s AND status = 'PENDING' AND owner_epoch = %s) "
    "ON CONFLICT (workflow_id, function_id) DO NOTHING"
)


def _diagnose(conn: BaseDatabaseWrapper, owner: Owner, record: StepRecord) -> None:
    """Explain why a step row was not written, by raising; return if the row is our own."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM {TABLE} WHERE workflow_id = %s AND function_id = %s",
                    (owner.workflow_id, record.function_id))  # fmt: skip
        found = cur.fetchone()
        if found is not None:
            if StepRecord(*found) == record:
                return  # our own write, retried after a lost acknowledgement
            raise DBOSWorkflowConflictIDError(owner.workflow_id)
        cur.execute(f"SELECT status, owner_epoch FROM {WF_TABLE} WHERE workflow_id = %s", (owner.workflow_id,))
        status = cur.fetchone()
    if status is None:
        raise DBOSNonExistentWorkflowError(owner.workflow_id, "it was deleted while running")
    if status[0] == "CANCELLED":
        raise DBOSWorkflowCancelledError(f"Workflow {owner.workflow_id} was cancelled")
    raise DBOSWorkflowConflictIDError(owner.workflow_id)  # finished, re-enqueued, or taken over


def _record(conn: BaseDatabaseWrapper, owner: Owner, record: StepRecord) -> None:
    with conn.cursor() as cur:
        cur.execute(_RECORD_SQL, (owner.workflow_id, *record.values(), owner.workflow_id, owner.epoch))
        written = cur.rowcount == 1
    if not written:
        _diagnose(conn, owner, record)


def record(owner: Owner, step: StepRecord) -> None:
    """Checkpoint a step; raise if the workflow was cancelled or another execution got there first.

    Inside an open transaction on the owner's alias (a ``@DBOS.transaction``) the row commits with it.
    """
    conns.run(owner.alias, lambda conn: _record(conn, owner, step), what=f"checkpointing {owner.workflow_id}")


def start_child(parent: Owner, marker: StepRecord, child: NewWorkflow) -> bool:
    """Insert a child workflow's row and the parent's marker for it in one transaction.

    Return True if this call created the child (so it should run it here).
    """

    def op(conn: BaseDatabaseWrapper) -> bool:
        with transaction.atomic(using=parent.alias):
            existing = insert_workflow_row(conn, child)
            _record(conn, parent, marker)
        return existing is None

    return conns.run(parent.alias, op, what=f"starting child workflow {child.workflow_id}")


def load(alias: str, workflow_id: str) -> dict[int, StepRecord]:
    """Every checkpoint of a workflow, to replay it."""

    def op(conn: BaseDatabaseWrapper) -> dict[int, StepRecord]:
        with conn.cursor() as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM {TABLE} WHERE workflow_id = %s", (workflow_id,))
            return {row[0]: StepRecord(*row) for row in cur.fetchall()}

    return conns.run(alias, op, what=f"loading checkpoints of {workflow_id}")


def list_steps(alias: str, workflow_id: str) -> list[StepRecord]:
    return sorted(load(alias, workflow_id).values(), key=lambda r: r.function_id)


TX_TABLE = TransactionOutput._meta.db_table


def record_transaction_output(conn: BaseDatabaseWrapper, workflow_id: str, step: StepRecord, now_ms: int) -> None:
    """Inside the user's transaction on another database: the output commits with the user's writes."""
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TX_TABLE} (workflow_id, function_id, function_name, output, error, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (workflow_id, function_id) DO NOTHING",
            (workflow_id, step.function_id, step.function_name, step.output, step.error, now_ms),
        )
        if cur.rowcount != 1:
            raise DBOSWorkflowConflictIDError(workflow_id)


def load_transaction_output(alias: str, workflow_id: str, function_id: int) -> StepRecord | None:
    """A transaction output committed in ``alias`` but perhaps never copied to the checkpoints."""
    row = conns.run(alias, lambda conn: TransactionOutput.objects.using(alias).filter(
        workflow_id=workflow_id, function_id=function_id
    ).values_list("function_name", "output", "error").first())  # fmt: skip
    return StepRecord(function_id, *row) if row else None
