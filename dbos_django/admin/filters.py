"""The workflow list's filters: each is one indexed condition, and none lists its choices with a full scan."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from ..engine.registry import registry
from ..models import DatabaseQueue, Executor, Workflow
from .display import now_ms

Choices = list[tuple[str, str]]


def distinct_values(queryset: QuerySet[Any], field: str, limit: int) -> list[str]:
    """Up to ``limit`` distinct non-null values of ``field``, in order, one index probe each.

    ``SELECT DISTINCT`` would read every row; this walks the index on ``field`` value by value.
    """
    column = queryset.filter(**{f"{field}__isnull": False}).order_by(field).values_list(field, flat=True)
    values: list[str] = []
    while len(values) < limit:
        following = column.filter(**{f"{field}__gt": values[-1]}) if values else column
        value = following.first()
        if value is None:
            break
        values.append(value)
    return values


def _with_selected(choices: Choices, selected: str | None) -> Choices:
    """Keep the selected value among the choices, even when it is not listed (a link from another page)."""
    if selected and selected not in {value for value, _ in choices}:
        return [*choices, (selected, selected)]
    return choices


class ValueFilter(admin.SimpleListFilter):
    """Workflows whose ``field`` equals the chosen value."""

    field = ""

    def queryset(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> QuerySet[Workflow]:
        value = self.value()
        return queryset.filter(**{self.field: value}) if value else queryset


class NameFilter(ValueFilter):
    """By workflow name (the names present in the table)."""

    title = "name"
    parameter_name = "name"
    field = "name"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Choices:
        names = distinct_values(model_admin.get_queryset(request), "name", 100)
        return _with_selected([(name, name) for name in names], self.value())


class QueueFilter(ValueFilter):
    """By queue (the queues declared in code and those stored in the database)."""

    title = "queue"
    parameter_name = "queue"
    field = "queue_name"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Choices:
        stored = DatabaseQueue.objects.using(model_admin.alias).values_list("name", flat=True)
        names = sorted(set(registry.queues) | set(stored))
        return _with_selected([(name, name) for name in names], self.value())


class ExecutorFilter(ValueFilter):
    """By executor (the workers that have a heartbeat row; any other one through the URL)."""

    title = "executor"
    parameter_name = "executor"
    field = "executor_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Choices:
        ids = Executor.objects.using(model_admin.alias).order_by("executor_id").values_list("executor_id", flat=True)
        return _with_selected([(executor, executor) for executor in ids[:100]], self.value())


class VersionFilter(ValueFilter):
    """By application version (the versions present in the table)."""

    title = "application version"
    parameter_name = "version"
    field = "application_version"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Choices:
        versions = distinct_values(model_admin.get_queryset(request), "application_version", 30)
        choices = [(v, v if len(v) <= 16 else f"{v[:16]}…") for v in versions]
        return _with_selected(choices, self.value())


PENDING_FOR = {"5m": ("5 minutes", 5 * 60_000), "1h": ("1 hour", 3_600_000), "1d": ("1 day", 86_400_000)}


class PendingForFilter(admin.SimpleListFilter):
    """PENDING (running) workflows started longer ago than the chosen age."""

    title = "pending for longer than"
    parameter_name = "pending_for"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Choices:
        return [(key, label) for key, (label, _) in PENDING_FOR.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> QuerySet[Workflow]:
        choice = PENDING_FOR.get(self.value() or "")
        if choice is None:
            return queryset
        cutoff = now_ms() - choice[1]
        # A queued workflow runs since it was dequeued (started_at); another one since it was created.
        started = Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff)
        return queryset.filter(started, status="PENDING")
