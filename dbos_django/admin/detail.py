"""What a workflow's page shows below its fields: steps, events, messages, streams, relatives, forks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from ..models import NULL_TOPIC, Message, StepOutput, StreamEntry, Workflow, WorkflowEvent
from ..storage.messages import STREAM_CLOSED
from .display import duration, summary, value_block, when

STEPS_SHOWN = 1_000
ROWS_SHOWN = 200
MIN_BAR = 1.0  # percent: an instant step still shows on the timeline
_CLOSED = f'"{STREAM_CLOSED}"'


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRow:
    """One step of the timeline, with its bar's position in percent of the workflow's run."""

    step: StepOutput
    offset: str
    took: str
    value: Any
    failed: bool
    bar_left: float
    bar_width: float


def _span(workflow: Workflow, steps: list[StepOutput]) -> tuple[int, int]:
    start = min([workflow.created_at, *(s.started_at_epoch_ms for s in steps if s.started_at_epoch_ms)])
    ends = [workflow.completed_at or 0, *(s.completed_at_epoch_ms or 0 for s in steps)]
    return start, max(max(ends), start + 1)


def timeline(workflow: Workflow, steps: list[StepOutput]) -> list[StepRow]:
    """The steps in order, each placed on a bar spanning the workflow's first to last recorded instant."""
    start, end = _span(workflow, steps)
    rows = []
    for step in steps:
        began, ended = step.started_at_epoch_ms, step.completed_at_epoch_ms
        width = max((ended - began) / (end - start) * 100, MIN_BAR) if began and ended else MIN_BAR
        left = min((began - start) / (end - start) * 100, 100 - width) if began else 0.0
        rows.append(StepRow(
            step=step, offset=f"+{duration(began - start)}" if began else "-",
            took=duration(ended - began) if began and ended else "-",
            value=value_block(step.error if step.error is not None else step.output),
            failed=step.error is not None, bar_left=round(left, 2), bar_width=round(width, 2),
        ))  # fmt: skip
    return rows


def streams(workflow: Workflow, alias: str) -> list[dict[str, Any]]:
    """Each stream of the workflow: how many values, the latest one, and whether it was closed."""
    entries = StreamEntry.objects.using(alias).filter(workflow_id=workflow.pk)
    summary = list(entries.values("key").annotate(count=Count("offset"), last=Max("offset")).order_by("key")[:ROWS_SHOWN])
    if not summary:
        return []
    latest = Q()
    for row in summary:
        latest |= Q(key=row["key"], offset=row["last"])
    values = {e.key: e.value for e in entries.filter(latest).only("key", "value")}
    result = []
    for row in summary:
        value = values.get(row["key"])
        closed = value == _CLOSED
        last_value = None
        if closed and row["count"] > 1:
            previous = entries.filter(key=row["key"], offset__lt=row["last"]).order_by("-offset").first()
            last_value = previous.value if previous else None
        elif not closed:
            last_value = value
        result.append({"key": row["key"], "count": row["count"] - closed, "closed": closed,
                       "latest": value_block(last_value) if last_value is not None else None})  # fmt: skip
    return result


def messages(workflow: Workflow, alias: str) -> list[dict[str, Any]]:
    """The latest messages sent to the workflow, newest first, with their consumed flag."""
    rows = Message.objects.using(alias).filter(destination_id=workflow.pk).order_by("-id")[:ROWS_SHOWN]
    return [{"topic": "" if m.topic == NULL_TOPIC else m.topic, "sent": when(m.created_at), "consumed": m.consumed,
             "value": value_block(m.message), "message_id": m.message_id} for m in rows]  # fmt: skip


def events(workflow: Workflow, alias: str) -> list[dict[str, Any]]:
    """The latest value of each event key of the workflow."""
    rows = WorkflowEvent.objects.using(alias).filter(workflow_id=workflow.pk).order_by("key")[:ROWS_SHOWN]
    return [{"key": e.key, "value": value_block(e.value)} for e in rows]


def _links(rows: QuerySet[Workflow]) -> list[dict[str, Any]]:
    return [summary(w) for w in rows]


def relatives(workflow: Workflow, alias: str) -> dict[str, Any]:
    """Parent, children, the workflow it was forked from and the forks of it."""
    rows = Workflow.objects.using(alias).only("workflow_id", "name", "status", "created_at").order_by("created_at")
    parent = _links(rows.filter(pk=workflow.parent_workflow_id)) if workflow.parent_workflow_id else []
    original = _links(rows.filter(pk=workflow.forked_from)) if workflow.forked_from else []
    return {
        "parent": parent[0] if parent else None,
        "children": _links(rows.filter(parent_workflow_id=workflow.pk)[:ROWS_SHOWN]),
        "forked_from": original[0] if original else None,
        "forks": _links(rows.filter(forked_from=workflow.pk)[:ROWS_SHOWN]),
        "missing_parent": workflow.parent_workflow_id,
        "missing_original": workflow.forked_from,
    }


def context(workflow: Workflow, alias: str) -> dict[str, Any]:
    """Everything the workflow's page shows under its fields."""
    steps = list(StepOutput.objects.using(alias).filter(workflow_id=workflow.pk).order_by("function_id")[:STEPS_SHOWN])
    return {
        "steps": timeline(workflow, steps),
        "steps_cut": len(steps) == STEPS_SHOWN,
        "events": events(workflow, alias),
        "received_messages": messages(workflow, alias),
        "streams": streams(workflow, alias),
        "rows_shown": ROWS_SHOWN,
        **relatives(workflow, alias),
    }
