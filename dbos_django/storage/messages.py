"""Messages, events and streams: each write is one transaction, with its checkpoint when in a workflow."""

from __future__ import annotations

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from ..error import DBOSNonExistentWorkflowError
from ..models import Message, StreamEntry, Workflow, WorkflowEvent, WorkflowEventHistory
from . import connections as conns
from .records import Owner, StepRecord
from .steps import TABLE as STEP
from .steps import _record as record_step

MSG = Message._meta.db_table
EVENT = WorkflowEvent._meta.db_table
HISTORY = WorkflowEventHistory._meta.db_table
STREAM = StreamEntry._meta.db_table
WF = Workflow._meta.db_table
STREAM_CLOSED = "__DBOS_STREAM_CLOSED__"


def _checkpointed(alias: str, owner: Owner | None, step: StepRecord | None, write: object) -> None:
    """Run ``write(conn)`` and, in a workflow, its checkpoint, in one transaction."""

    def op(conn: BaseDatabaseWrapper) -> None:
        with transaction.atomic(using=alias):
            write(conn)  # type: ignore[operator]
            if owner is not None and step is not None:
                record_step(conn, owner, step)

    conns.run(alias, op)


def send(alias: str, messages: list[tuple[str, str, str, str, str]], now_ms: int, *, owner: Owner | None = None,
         step: StepRecord | None = None) -> None:  # fmt: skip
    """Insert ``(message_id, destination, topic, text, serialization)`` rows; a known message_id is a no-op.

    Raise ``DBOSNonExistentWorkflowError`` if a destination does not exist (nothing is written).
    """

    def write(conn: BaseDatabaseWrapper) -> None:
        with conn.cursor() as cur:
            for message_id, destination, topic, text, serialization in messages:
                cur.execute(
                    f"INSERT INTO {MSG} (message_id, destination_id, topic, message, serialization, created_at, "
                    f"consumed) SELECT %s, %s, %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM {WF} "
                    "WHERE workflow_id = %s) ON CONFLICT (message_id) DO NOTHING",
                    (message_id, destination, topic, text, serialization, now_ms, False, destination),
                )
                if cur.rowcount == 0:
                    cur.execute(f"SELECT 1 FROM {WF} WHERE workflow_id = %s", (destination,))
                    if cur.fetchone() is None:
                        raise DBOSNonExistentWorkflowError(destination, "cannot send it a message")

    _checkpointed(alias, owner, step, write)


def consume(alias: str, destination: str, topic: str, owner: Owner, step: StepRecord) -> StepRecord | None:
    """Take the oldest unconsumed message of a topic and checkpoint it as ``step``, in one transaction.

    Return the checkpoint written, or None if there is no message.
    """

    def op(conn: BaseDatabaseWrapper) -> StepRecord | None:
        with transaction.atomic(using=alias):
            with conn.cursor() as cur:
                # Nothing is taken once the step is checkpointed: a retry after a lost acknowledgement
                # must not consume a second message.
                cur.execute(
                    f"UPDATE {MSG} SET consumed = %s WHERE id = (SELECT id FROM {MSG} WHERE destination_id = %s "
                    "AND topic = %s AND consumed = %s ORDER BY id LIMIT 1) AND NOT EXISTS (SELECT 1 FROM "
                    f"{STEP} WHERE workflow_id = %s AND function_id = %s) RETURNING message",
                    (True, destination, topic, False, owner.workflow_id, step.function_id),
                )
                row = cur.fetchone()
                if row is None:
                    # Our own earlier attempt may have taken the message and committed, its
                    # acknowledgement lost with the connection: its checkpoint says what it took.
                    cur.execute(f"SELECT output FROM {STEP} WHERE workflow_id = %s AND function_id = %s "
                                "AND function_name = %s", (owner.workflow_id, step.function_id, step.function_name))  # fmt: skip
                    own = cur.fetchone()
                    return None if own is None else StepRecord(step.function_id, step.function_name, own[0])
            taken = StepRecord(step.function_id, step.function_name, row[0], None, None,
                               step.started_at_epoch_ms, step.completed_at_epoch_ms)  # fmt: skip
            record_step(conn, owner, taken)
            return taken

    return conns.run(alias, op, what=f"receiving a message for {destination}")


def has_message(alias: str, destination: str, topic: str) -> bool:
    query = Message.objects.using(alias).filter(destination_id=destination, topic=topic, consumed=False)
    return conns.run(alias, lambda conn: query.exists())


def set_event(alias: str, workflow_id: str, key: str, text: str, serialization: str, function_id: int, *,
              owner: Owner | None = None, step: StepRecord | None = None) -> None:  # fmt: skip
    """Upsert the latest value and the history entry of this step (and checkpoint it in a workflow)."""

    def write(conn: BaseDatabaseWrapper) -> None:
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {EVENT} (workflow_id, key, value, serialization) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (workflow_id, key) DO UPDATE SET value = EXCLUDED.value, "
                "serialization = EXCLUDED.serialization",
                (workflow_id, key, text, serialization),
            )
            cur.execute(
                f"INSERT INTO {HISTORY} (workflow_id, function_id, key, value, serialization) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (workflow_id, function_id, key) "
                "DO UPDATE SET value = EXCLUDED.value, serialization = EXCLUDED.serialization",
                (workflow_id, function_id, key, text, serialization),
            )

    _checkpointed(alias, owner, step, write)


def get_event(alias: str, workflow_id: str, key: str) -> str | None:
    query = WorkflowEvent.objects.using(alias).filter(workflow_id=workflow_id, key=key).values_list("value", flat=True)
    return conns.run(alias, lambda conn: query.first())


def all_events(alias: str, workflow_id: str) -> dict[str, str]:
    query = WorkflowEvent.objects.using(alias).filter(workflow_id=workflow_id).values_list("key", "value")
    return conns.run(alias, lambda conn: dict(query))


def write_stream(alias: str, workflow_id: str, key: str, text: str, serialization: str, function_id: int, *,
                 owner: Owner | None = None, step: StepRecord | None = None) -> None:  # fmt: skip
    """Append a value at the next offset of a stream (and checkpoint it in a workflow)."""

    def write(conn: BaseDatabaseWrapper) -> None:
        with conn.cursor() as cur:
            cur.execute(
                f'INSERT INTO {STREAM} (workflow_id, key, "offset", value, serialization, function_id) '
                f'SELECT %s, %s, COALESCE(MAX("offset"), -1) + 1, %s, %s, %s FROM {STREAM} '
                "WHERE workflow_id = %s AND key = %s",
                (workflow_id, key, text, serialization, function_id, workflow_id, key),
            )

    _checkpointed(alias, owner, step, write)


def read_stream(alias: str, workflow_id: str, key: str, offset: int) -> tuple[str | None, str | None]:
    """``(value at offset or None, the writer's status or None if it does not exist)``."""

    def op(conn: BaseDatabaseWrapper) -> tuple[str | None, str | None]:
        with conn.cursor() as cur:
            cur.execute(
                f'SELECT w.status, s.value FROM {WF} w LEFT JOIN {STREAM} s ON s.workflow_id = w.workflow_id '
                'AND s.key = %s AND s."offset" = %s WHERE w.workflow_id = %s',
                (key, offset, workflow_id),
            )
            row = cur.fetchone()
        return (None, None) if row is None else (row[1], row[0])

    return conns.run(alias, op, what=f"reading stream {key} of {workflow_id}")


def copy_for_fork(conn: BaseDatabaseWrapper, original: str, fork: str, start_step: int) -> None:
    """Give a fork the events and stream values its original had before ``start_step``."""
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {HISTORY} (workflow_id, function_id, key, value, serialization) "
            f"SELECT %s, function_id, key, value, serialization FROM {HISTORY} "
            "WHERE workflow_id = %s AND function_id < %s",
            (fork, original, start_step),
        )
        cur.execute(
            f"INSERT INTO {EVENT} (workflow_id, key, value, serialization) "
            f"SELECT h.workflow_id, h.key, h.value, h.serialization FROM {HISTORY} h WHERE h.workflow_id = %s "
            f"AND h.function_id = (SELECT MAX(function_id) FROM {HISTORY} x WHERE x.workflow_id = h.workflow_id "
            "AND x.key = h.key)",
            (fork,),
        )
        cur.execute(
            f'INSERT INTO {STREAM} (workflow_id, key, "offset", value, serialization, function_id) '
            f'SELECT %s, key, "offset", value, serialization, function_id FROM {STREAM} '
            "WHERE workflow_id = %s AND function_id < %s",
            (fork, original, start_step),
        )
