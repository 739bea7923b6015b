"""``list_workflows`` and ``list_queued_workflows``: filters over the workflow table, on indexed columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from ..error import DBOSInvalidArgumentError
from ..models import Workflow, WorkflowStatusString
from . import connections as conns

QUEUED_STATUSES = ("ENQUEUED", "PENDING", "DELAYED")


def epoch_ms(value: str | datetime | int | None) -> int | None:
    """An ISO-8601 string, a datetime or epoch milliseconds, as epoch milliseconds."""
    if value is None or isinstance(value, int):
        return value
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        from datetime import UTC

        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _one_or_many(value: str | list[str] | None) -> list[str] | None:
    return [value] if isinstance(value, str) else value


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """Every filter of DBOS's ``list_workflows``; they are AND-ed."""

    workflow_ids: list[str] | None = None
    status: str | list[str] | None = None
    start_time: str | datetime | None = None
    end_time: str | datetime | None = None
    completed_after: str | datetime | None = None
    completed_before: str | datetime | None = None
    dequeued_after: str | datetime | None = None
    dequeued_before: str | datetime | None = None
    name: str | list[str] | None = None
    app_version: str | list[str] | None = None
    forked_from: str | list[str] | None = None
    parent_workflow_id: str | list[str] | None = None
    user: str | list[str] | None = None
    queue_name: str | list[str] | None = None
    executor_id: str | list[str] | None = None
    workflow_id_prefix: str | list[str] | None = None
    was_forked_from: bool | None = None
    has_parent: bool | None = None
    queues_only: bool = False
    limit: int | None = None
    offset: int | None = None
    sort_desc: bool = False

    def __post_init__(self) -> None:
        """Raise ``DBOSInvalidArgumentError`` for a negative limit or offset, or a status DBOS does not have."""
        for name in ("limit", "offset"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise DBOSInvalidArgumentError(f"Invalid {name} {value!r}: it must be an integer of at least 0")
        unknown = [s for s in _one_or_many(self.status) or [] if s not in WorkflowStatusString.values]
        if unknown:
            raise DBOSInvalidArgumentError(f"Invalid status {', '.join(map(repr, unknown))}: the statuses are "
                                           f"{', '.join(WorkflowStatusString.values)}")  # fmt: skip

    def query(self, alias: str) -> QuerySet[Workflow]:
        rows = Workflow.objects.using(alias).all()
        lists: tuple[tuple[str, str | list[str] | None], ...] = (("workflow_id", self.workflow_ids), ("status", self.status), ("name", self.name),
                             ("application_version", self.app_version), ("forked_from", self.forked_from),
                             ("parent_workflow_id", self.parent_workflow_id), ("authenticated_user", self.user),
                             ("queue_name", self.queue_name), ("executor_id", self.executor_id))  # fmt: skip
        for field, value in lists:
            values = _one_or_many(value)
            if values is not None:
                rows = rows.filter(**{f"{field}__in": values})
        times: tuple[tuple[str, str | datetime | None], ...] = (("created_at__gte", self.start_time), ("created_at__lte", self.end_time),
                             ("completed_at__gte", self.completed_after), ("completed_at__lte", self.completed_before),
                             ("started_at__gte", self.dequeued_after), ("started_at__lte", self.dequeued_before))  # fmt: skip
        for field, when in times:
            if when is not None:
                rows = rows.filter(**{field: epoch_ms(when)})
        prefixes = _one_or_many(self.workflow_id_prefix)
        if prefixes:
            match = Q()
            for prefix in prefixes:
                match |= Q(workflow_id__startswith=prefix)
            rows = rows.filter(match)
        if self.was_forked_from is not None:
            forked = Workflow.objects.using(alias).filter(forked_from__isnull=False).values("forked_from")
            rows = rows.filter(workflow_id__in=forked) if self.was_forked_from else rows.exclude(workflow_id__in=forked)
        if self.has_parent is not None:
            rows = rows.filter(parent_workflow_id__isnull=not self.has_parent)
        if self.queues_only:
            rows = rows.filter(queue_name__isnull=False)
            if self.status is None:
                rows = rows.filter(status__in=QUEUED_STATUSES)
        rows = rows.order_by("-created_at" if self.sort_desc else "created_at", "workflow_id")
        start = self.offset or 0
        return rows[start : start + self.limit] if self.limit is not None else rows[start:]


def list_rows(alias: str, filters: Filters, *, load_input: bool, load_output: bool) -> list[Workflow]:
    rows = filters.query(alias)
    deferred = [f for f, load in (("inputs", load_input), ("output", load_output), ("error", load_output)) if not load]
    if deferred:
        rows = rows.defer(*deferred)
    return conns.run(alias, lambda conn: list(rows))
