"""How the operations commands show workflows: stable JSON objects and plain-text tables.

Stored values are shown with ``describe()``: readable JSON, or a placeholder for a pickled value
(a command never unpickles what it prints). Times are ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..models import Workflow
from ..serialization import describe
from ..storage.records import StepRecord

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(epoch_ms: int | None) -> str | None:
    """Epoch milliseconds as ISO 8601 in UTC (None stays None)."""
    if epoch_ms is None:
        return None
    return (EPOCH + timedelta(milliseconds=epoch_ms)).isoformat(timespec="milliseconds")  # exact: no float


def value(text: str | None) -> str | None:
    """A stored value for people; None when nothing is stored."""
    return None if text is None else describe(text)


def workflow(row: Workflow) -> dict[str, Any]:
    """The keys of one workflow in ``dbos_workflows list --json``."""
    return {
        "workflow_id": row.workflow_id, "status": row.status, "name": row.name, "class_name": row.class_name,
        "config_name": row.config_name, "queue_name": row.queue_name, "executor_id": row.executor_id,
        "app_version": row.application_version, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
        "completed_at": iso(row.completed_at), "recovery_attempts": row.recovery_attempts,
        "input": value(row.inputs), "output": value(row.output), "error": value(row.error),
    }  # fmt: skip


def workflow_details(row: Workflow) -> dict[str, Any]:
    """The keys of ``dbos_workflows get --json``: those of ``list`` and the rest of the row."""
    return {
        **workflow(row), "application_name": row.application_name, "authenticated_user": row.authenticated_user,
        "parent_workflow_id": row.parent_workflow_id, "forked_from": row.forked_from,
        "dequeued_at": iso(row.started_at), "deadline_at": iso(row.workflow_deadline_epoch_ms),
        "priority": row.priority, "deduplication_id": row.deduplication_id,
        "queue_partition_key": row.queue_partition_key,
    }  # fmt: skip


def step(record: StepRecord) -> dict[str, Any]:
    """The keys of one step in ``dbos_workflows steps --json``."""
    return {
        "function_id": record.function_id, "function_name": record.function_name,
        "child_workflow_id": record.child_workflow_id, "started_at": iso(record.started_at_epoch_ms),
        "completed_at": iso(record.completed_at_epoch_ms), "output": value(record.output),
        "error": value(record.error),
    }  # fmt: skip


def one_line(text: str | None, width: int = 40) -> str:
    """A value squeezed onto one line of at most ``width`` characters, for tables."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Lines of a left-aligned table, each column as wide as its widest cell."""
    cells = [[("-" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [max([len(str(h)), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in (list(headers), *cells)]  # fmt: skip
