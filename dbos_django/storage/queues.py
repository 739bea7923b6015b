"""Queues: enqueue (ORM only, in the caller's transaction), claim (one short transaction), delays.

Claiming on PostgreSQL takes rows with ``FOR UPDATE SKIP LOCKED``; a queue whose budget is
shared by every worker (global or partition concurrency, rate limits) is claimed under a
transaction-scoped advisory lock, so two workers never spend the same budget. On SQLite the
IMMEDIATE transaction is the lock, and "database is locked" means "try again later".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from ..models import Workflow
from . import connections as conns
from . import vendor
from .records import ClaimedWorkflow, ExistingWorkflow, NewWorkflow, StepRecord
from .steps import TABLE as STEP_TABLE
from .workflows import _EXISTING_SQL, _NEW_COLUMNS

TABLE = Workflow._meta.db_table
INTERNAL_QUEUE = "_dbos_internal_queue"

# ON CONFLICT without a target also absorbs the deduplication index: never an IntegrityError,
# so an enqueue inside the caller's transaction never breaks it.
_ENQUEUE_SQL = (
    f"INSERT INTO {TABLE} ({', '.join(_NEW_COLUMNS)}, updated_at) "
    f"VALUES ({', '.join(['%s'] * (len(_NEW_COLUMNS) + 1))}) ON CONFLICT DO NOTHING"
)
_CLAIMED_COLUMNS = (
    "workflow_id, name, class_name, config_name, inputs, serialization, recovery_attempts, "
    "workflow_deadline_epoch_ms, owner_epoch, queue_name, queue_partition_key"
)


@dataclass(frozen=True, slots=True)
class Limits:
    """What a queue may start now; None means unlimited."""

    concurrency: int | None = None
    rate_limit_max: int | None = None
    rate_limit_period_sec: float | None = None
    partition_concurrency: int | None = None
    partition_rate_limit_max: int | None = None
    partition_rate_limit_period_sec: float | None = None

    @property
    def shared(self) -> bool:
        """Does every worker spend the same budget (so claims must be serialized)?"""
        return any(v is not None for v in (self.concurrency, self.rate_limit_max, self.partition_concurrency,
                                            self.partition_rate_limit_max))  # fmt: skip


def enqueue(alias: str, row: NewWorkflow) -> ExistingWorkflow | None:
    """Insert an ENQUEUED/DELAYED row; None if inserted, else the row holding the id.

    Raises ``LookupError`` when another row holds the deduplication id.
    """

    def op(conn: BaseDatabaseWrapper) -> ExistingWorkflow | None:
        with conn.cursor() as cur:
            cur.execute(_ENQUEUE_SQL, (*row.values(), row.created_at))
            if cur.rowcount == 1:
                return None
            cur.execute(_EXISTING_SQL, (row.workflow_id,))
            found = cur.fetchone()
        if found is None:
            raise LookupError(row.deduplication_id)
        return ExistingWorkflow(*found)

    return conns.run(alias, op, what=f"enqueueing workflow {row.workflow_id}")


def dedup_holder(alias: str, queue_name: str, deduplication_id: str) -> str | None:
    """The id of the workflow holding a deduplication id on a queue."""
    query = Workflow.objects.using(alias).filter(queue_name=queue_name, deduplication_id=deduplication_id)
    return conns.run(alias, lambda conn: query.values_list("workflow_id", flat=True).first())


def _count(conn: BaseDatabaseWrapper, sql: str, params: tuple[object, ...]) -> int:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return int(cur.fetchone()[0])


def _budget(conn: BaseDatabaseWrapper, queue: str, partition: str | None, limits: Limits, wanted: int,
            now_ms: int) -> int:  # fmt: skip
    """How many rows of the queue (and partition) may start now, given the shared limits."""
    budget = wanted
    if limits.concurrency is not None:
        running = _count(conn, f"SELECT COUNT(*) FROM {TABLE} WHERE queue_name = %s AND status = 'PENDING'", (queue,))
        budget = min(budget, limits.concurrency - running)
    if limits.rate_limit_max is not None and limits.rate_limit_period_sec:
        since = now_ms - int(limits.rate_limit_period_sec * 1000)
        started = _count(conn, f"SELECT COUNT(*) FROM {TABLE} WHERE queue_name = %s AND started_at > %s",
                         (queue, since))  # fmt: skip
        budget = min(budget, limits.rate_limit_max - started)
    if partition is not None and limits.partition_concurrency is not None:
        running = _count(conn, f"SELECT COUNT(*) FROM {TABLE} WHERE queue_name = %s AND status = 'PENDING' "
                               "AND queue_partition_key = %s", (queue, partition))  # fmt: skip
        budget = min(budget, limits.partition_concurrency - running)
    if partition is not None and limits.partition_rate_limit_max is not None and limits.partition_rate_limit_period_sec:
        since = now_ms - int(limits.partition_rate_limit_period_sec * 1000)
        started = _count(conn, f"SELECT COUNT(*) FROM {TABLE} WHERE queue_name = %s AND queue_partition_key = %s "
                               "AND started_at > %s", (queue, partition, since))  # fmt: skip
        budget = min(budget, limits.partition_rate_limit_max - started)
    return budget


def _lock_queue(conn: BaseDatabaseWrapper, queue: str, partition: str | None) -> bool:
    """PostgreSQL: one claimer at a time per queue with a shared budget; False if another holds it."""
    if not vendor.is_postgres(conn):
        return True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", (f"dbos-queue:{queue}",))
        return bool(cur.fetchone()[0])


def _select_ids(conn: BaseDatabaseWrapper, queue: str, partition: str | None, versions: tuple[str, ...],
                limit: int) -> list[str]:  # fmt: skip
    lock = " FOR UPDATE SKIP LOCKED" if vendor.is_postgres(conn) else ""
    version_sql = "(application_version IS NULL OR application_version IN (" + ", ".join(["%s"] * len(versions)) + "))"
    partition_sql = " AND queue_partition_key = %s" if partition is not None else ""
    params: tuple[object, ...] = (queue, *versions, *((partition,) if partition is not None else ()), limit)
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT workflow_id FROM {TABLE} WHERE queue_name = %s AND status = 'ENQUEUED' AND {version_sql}"
            f"{partition_sql} ORDER BY priority, created_at, {vendor.insertion_order(conn)} LIMIT %s{lock}",
            params,
        )
        return [row[0] for row in cur.fetchall()]


def _take(conn: BaseDatabaseWrapper, ids: list[str], executor_id: str, now_ms: int) -> list[ClaimedWorkflow]:
    marks = ", ".join(["%s"] * len(ids))
    with conn.cursor() as cur:
        cur.execute(
            f"UPDATE {TABLE} SET status = 'PENDING', executor_id = %s, started_at = %s, updated_at = %s, "
            "owner_epoch = owner_epoch + 1, recovery_attempts = recovery_attempts + 1, "
            # A queued workflow's deadline starts when it is dequeued (or resumed, which clears it).
            "workflow_deadline_epoch_ms = COALESCE(workflow_deadline_epoch_ms, %s + workflow_timeout_ms) "
            f"WHERE workflow_id IN ({marks}) AND status = 'ENQUEUED' RETURNING {_CLAIMED_COLUMNS}",
            (executor_id, now_ms, now_ms, now_ms, *ids),
        )
        return [ClaimedWorkflow(*row) for row in cur.fetchall()]


def _taken_at(conn: BaseDatabaseWrapper, queue: str, partition: str | None, executor_id: str,
              now_ms: int) -> list[ClaimedWorkflow]:  # fmt: skip
    """The rows a claim at ``now_ms`` by this executor took (its own earlier attempt)."""
    partition_sql = " AND queue_partition_key = %s" if partition is not None else " AND queue_partition_key IS NULL"
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT {_CLAIMED_COLUMNS} FROM {TABLE} WHERE queue_name = %s AND status = 'PENDING' "
            f"AND executor_id = %s AND started_at = %s{partition_sql}",
            (queue, executor_id, now_ms, *((partition,) if partition is not None else ())),
        )
        return [ClaimedWorkflow(*row) for row in cur.fetchall()]


def claim(alias: str, queue: str, *, partition: str | None, limits: Limits, wanted: int, executor_id: str,
          versions: tuple[str, ...], now_ms: int) -> list[ClaimedWorkflow]:  # fmt: skip
    """Take up to ``wanted`` ENQUEUED rows of a queue (one partition of it) and mark them PENDING for us."""
    if wanted <= 0:
        return []
    attempts = 0

    def op(conn: BaseDatabaseWrapper) -> list[ClaimedWorkflow]:
        nonlocal attempts
        attempts += 1
        with transaction.atomic(using=alias):
            if attempts > 1:
                # The previous attempt may have committed before the connection went: its rows are
                # PENDING under our id, and no one else would ever run them (we are alive).
                taken = _taken_at(conn, queue, partition, executor_id, now_ms)
                if taken:
                    return taken
            if limits.shared and not _lock_queue(conn, queue, partition):
                return []
            budget = _budget(conn, queue, partition, limits, wanted, now_ms) if limits.shared else wanted
            if budget <= 0:
                return []
            ids = _select_ids(conn, queue, partition, versions, budget)
            return _take(conn, ids, executor_id, now_ms) if ids else []

    try:
        return conns.run(alias, op, what=f"claiming from queue {queue}")
    except OperationalError as exc:
        if vendor.is_locked(exc):
            return []  # SQLite: another process holds the write lock; try again at the next poll
        raise


def partitions(alias: str, queue: str, limit: int = 1000) -> list[str]:
    """The partition keys of a queue that have ENQUEUED rows."""
    query = (Workflow.objects.using(alias).filter(queue_name=queue, status="ENQUEUED")
             .exclude(queue_partition_key=None).values_list("queue_partition_key", flat=True).distinct()[:limit])  # fmt: skip
    return conns.run(alias, lambda conn: list(query))


def load_steps(alias: str, workflow_ids: list[str]) -> dict[str, dict[int, StepRecord]]:
    """The checkpoints of several claimed workflows, in one query."""
    found: dict[str, dict[int, StepRecord]] = {wid: {} for wid in workflow_ids}
    if not workflow_ids:
        return found

    def op(conn: BaseDatabaseWrapper) -> dict[str, dict[int, StepRecord]]:
        marks = ", ".join(["%s"] * len(workflow_ids))
        with conn.cursor() as cur:
            cur.execute(
                "SELECT workflow_id, function_id, function_name, output, error, child_workflow_id, "
                f"started_at_epoch_ms, completed_at_epoch_ms FROM {STEP_TABLE} WHERE workflow_id IN ({marks})",
                workflow_ids,
            )
            for wid, *rest in cur.fetchall():
                found[wid][rest[0]] = StepRecord(*rest)
        return found

    return conns.run(alias, op, what="loading checkpoints")


def promote_delayed(alias: str, now_ms: int) -> int:
    """Move DELAYED rows whose time has come to ENQUEUED; return how many.

    A debounced workflow lets go of its deduplication id as it leaves DELAYED, so the next
    debounce call starts a new one.
    """

    def op(conn: BaseDatabaseWrapper) -> int:
        with conn.cursor() as cur:
            cur.execute(
                f"UPDATE {TABLE} SET status = 'ENQUEUED', updated_at = %s, deduplication_id = CASE WHEN is_debounced "
                "THEN NULL ELSE deduplication_id END WHERE status = 'DELAYED' AND delay_until_epoch_ms <= %s",
                (now_ms, now_ms),
            )
            return cur.rowcount

    return conns.run(alias, op, what="promoting delayed workflows")


def bounce(alias: str, queue_name: str, deduplication_id: str, name: str, inputs: str, until_ms: int,
           now_ms: int) -> str | None:  # fmt: skip
    """Push back the start of a waiting debounced workflow (up to its deadline) and replace its inputs.

    Return its id, or None if no debounced workflow of this name waits under this deduplication id.
    """

    def op(conn: BaseDatabaseWrapper) -> str | None:
        with conn.cursor() as cur:
            cur.execute(
                f"UPDATE {TABLE} SET inputs = %s, updated_at = %s, delay_until_epoch_ms = CASE WHEN "
                "debounce_deadline_epoch_ms IS NOT NULL AND debounce_deadline_epoch_ms < %s THEN "
                "debounce_deadline_epoch_ms ELSE %s END WHERE queue_name = %s AND deduplication_id = %s "
                "AND name = %s AND status = 'DELAYED' AND is_debounced = %s RETURNING workflow_id",
                (inputs, now_ms, until_ms, until_ms, queue_name, deduplication_id, name, True),
            )
            row = cur.fetchone()
        return row[0] if row else None

    return conns.run(alias, op, what="debouncing")


def has_work(alias: str, queues: list[str] | None) -> bool:
    """Are there ENQUEUED or DELAYED rows (on these queues, or on the internal one, which every worker serves)?"""
    query = Workflow.objects.using(alias).filter(status__in=("ENQUEUED", "DELAYED"))
    if queues is not None:
        query = query.filter(queue_name__in=[*queues, INTERNAL_QUEUE])  # recovered and resumed workflows
    return conns.run(alias, lambda conn: query.exists())


def owns_pending(alias: str, executor_id: str) -> bool:
    """Does this executor hold PENDING workflows?"""
    query = Workflow.objects.using(alias).filter(status="PENDING", executor_id=executor_id)
    return conns.run(alias, lambda conn: query.exists())


def requeue_pending(alias: str, executor_ids: list[str], now_ms: int, *, version: str | None = None) -> int:
    """Hand the PENDING workflows of these executors to the internal queue (recovery); return how many.

    One conditional update: among survivors doing this at once, exactly one takes each row.
    """
    query = Workflow.objects.using(alias).filter(status="PENDING", executor_id__in=executor_ids)
    if version is not None:
        query = query.filter(application_version=version)

    def op(conn: BaseDatabaseWrapper) -> int:
        taken = query.filter(queue_name=None).update(status="ENQUEUED", queue_name=INTERNAL_QUEUE, started_at=None,
                                                     updated_at=now_ms)  # fmt: skip
        return taken + query.update(status="ENQUEUED", started_at=None, updated_at=now_ms)

    return conns.run(alias, op, what="re-enqueueing workflows for recovery")


def stored_queue_names(alias: str) -> list[str]:
    """The names of the queues registered in the database."""
    from ..models import DatabaseQueue

    return conns.run(alias, lambda conn: list(DatabaseQueue.objects.using(alias).values_list("name", flat=True)))
