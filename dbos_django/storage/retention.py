"""Retention: delete old finished workflows and every row that belongs to them, a batch at a time.

Each batch is one short transaction: pick up to N workflow ids, delete their rows from every
child table, then the workflow rows. Nothing holds a lock for longer than one batch, so a
prune can run next to live workers. The candidates also match ``created_at < cutoff`` (a
workflow finishes after it starts), which lets the database walk the ``created_at`` index.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from ..models import Message, StepOutput, StreamEntry, TransactionOutput, Workflow, WorkflowEvent, WorkflowEventHistory
from . import connections as conns
from . import vendor

WF = Workflow._meta.db_table

#: Every table holding rows of a workflow, with the column naming it; children before parents.
CHILD_TABLES: tuple[tuple[str, str], ...] = (
    (Message._meta.db_table, "destination_id"),
    (WorkflowEventHistory._meta.db_table, "workflow_id"),
    (WorkflowEvent._meta.db_table, "workflow_id"),
    (StreamEntry._meta.db_table, "workflow_id"),
    (StepOutput._meta.db_table, "workflow_id"),
    (TransactionOutput._meta.db_table, "workflow_id"),
)

#: Every table a prune deletes from, in the order it does.
TABLES: tuple[str, ...] = (*(table for table, _column in CHILD_TABLES), WF)


def _marks(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _condition(statuses: Sequence[str]) -> str:
    """The WHERE clause of a prunable workflow; parameters: cutoff, cutoff, *statuses."""
    return f"created_at < %s AND completed_at < %s AND status IN ({_marks(statuses)})"


def _select_batch(conn: BaseDatabaseWrapper, statuses: Sequence[str], cutoff_ms: int, limit: int) -> list[str]:
    # PostgreSQL: lock the rows so a concurrent resume waits for us; skip rows someone else holds.
    lock = " FOR UPDATE SKIP LOCKED" if vendor.is_postgres(conn) else ""
    with conn.cursor() as cur:
        cur.execute(f"SELECT workflow_id FROM {WF} WHERE {_condition(statuses)} ORDER BY created_at LIMIT %s{lock}",
                    (cutoff_ms, cutoff_ms, *statuses, limit))  # fmt: skip
        return [row[0] for row in cur.fetchall()]


def _delete_rows(conn: BaseDatabaseWrapper, ids: list[str]) -> dict[str, int]:
    deleted: dict[str, int] = {}
    with conn.cursor() as cur:
        for table, column in (*CHILD_TABLES, (WF, "workflow_id")):
            cur.execute(f"DELETE FROM {table} WHERE {column} IN ({_marks(ids)})", ids)
            deleted[table] = cur.rowcount
    return deleted


def delete_batch(alias: str, statuses: Sequence[str], cutoff_ms: int, batch_size: int) -> dict[str, int]:
    """Delete up to ``batch_size`` finished workflows completed before ``cutoff_ms``, with all their rows.

    One transaction. Return the number of rows deleted per table (the workflow table included).
    """

    def op(conn: BaseDatabaseWrapper) -> dict[str, int]:
        with transaction.atomic(using=alias):
            ids = _select_batch(conn, statuses, cutoff_ms, batch_size)
            return _delete_rows(conn, ids) if ids else {WF: 0}

    return conns.run(alias, op, what="pruning workflows")


def count(alias: str, statuses: Sequence[str], cutoff_ms: int) -> dict[str, int]:
    """How many rows per table a prune with these arguments would delete (the workflow table included)."""

    def op(conn: BaseDatabaseWrapper) -> dict[str, int]:
        params = (cutoff_ms, cutoff_ms, *statuses)
        counted: dict[str, int] = {}
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {WF} WHERE {_condition(statuses)}", params)
            workflows = int(cur.fetchone()[0])
            for table, column in CHILD_TABLES:
                cur.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} IN "
                            f"(SELECT workflow_id FROM {WF} WHERE {_condition(statuses)})", params)  # fmt: skip
                counted[table] = int(cur.fetchone()[0])
        return {**counted, WF: workflows}

    return conns.run(alias, op, what="counting prunable workflows")
