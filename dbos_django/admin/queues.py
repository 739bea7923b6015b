"""The queues page: every queue (declared in code or stored in the database) with its load and limits.

Limits of a queue stored in the database can be edited; saving goes through ``DBOS.register_queue``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from .. import conf
from ..engine.registry import registry
from ..facade import DBOS
from ..models import DatabaseQueue, Workflow
from ..storage.queues import INTERNAL_QUEUE
from .actions import admin_context
from .display import ago
from .forms import DatabaseQueueForm, queue_limits

WAITING = ("ENQUEUED", "DELAYED", "PENDING")


@dataclass(slots=True, kw_only=True)
class QueueRow:
    """One line of the queues page."""

    name: str
    source: str
    limits: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    oldest: str = "-"
    edit_url: str | None = None
    list_url: str = ""


def _rate(limit: int | None, period: float | None) -> str | None:
    return f"{limit} per {period:g} s" if limit is not None and period is not None else None


def _limits(pairs: list[tuple[str, Any]]) -> list[str]:
    return [f"{label}: {value}" for label, value in pairs if value is not None]


def code_limits(queue: Any) -> list[str]:
    """The limits of a ``Queue`` declared in code, as text."""
    limiter, partition = queue.limiter or {}, queue.partition_limiter or {}
    return _limits([
        ("concurrency", queue.concurrency), ("per worker", queue.worker_concurrency),
        ("rate", _rate(limiter.get("limit"), limiter.get("period"))),
        ("per partition", queue.partition_concurrency),
        ("per partition and worker", queue.partition_worker_concurrency),
        ("rate per partition", _rate(partition.get("limit"), partition.get("period"))),
    ])  # fmt: skip


def stored_limits(row: DatabaseQueue) -> list[str]:
    """The limits of a queue stored in the database, as text."""
    return _limits([
        ("concurrency", row.concurrency), ("per worker", row.worker_concurrency),
        ("rate", _rate(row.rate_limit_max, row.rate_limit_period_sec)),
        ("per partition", row.partition_concurrency),
        ("per partition and worker", row.partition_worker_concurrency),
        ("rate per partition", _rate(row.partition_rate_limit_max, row.partition_rate_limit_period_sec)),
    ])  # fmt: skip


def load(alias: str) -> dict[str, dict[str, Any]]:
    """Per queue: how many workflows are ENQUEUED, DELAYED and PENDING, and when the oldest ENQUEUED one came."""
    rows = (Workflow.objects.using(alias).filter(status__in=WAITING, queue_name__isnull=False)
            .values_list("queue_name", "status").annotate(n=Count("pk"), oldest=Min("created_at")).order_by())  # fmt: skip
    found: dict[str, dict[str, Any]] = {}
    for queue, status, n, oldest in rows:
        entry = found.setdefault(queue, {"counts": {}, "oldest": None})
        entry["counts"][status] = n
        if status == "ENQUEUED":
            entry["oldest"] = oldest
    return found


def overview(alias: str) -> list[QueueRow]:
    """Every queue known here: declared in code, stored in the database, or holding waiting workflows."""
    stored = {row.name: row for row in DatabaseQueue.objects.using(alias).order_by("name")}
    counts = load(alias)
    rows = []
    for name in sorted(set(registry.queues) | set(stored) | set(counts)):
        row = stored.get(name)
        source = "database" if row is not None else ("code" if name in registry.queues else "unknown")
        if name == INTERNAL_QUEUE:
            source = "DBOS (resumed, forked and scheduled workflows)"
        limits = stored_limits(row) if row is not None else code_limits(registry.queues[name]) if name in registry.queues else []
        entry = counts.get(name, {"counts": {}, "oldest": None})
        rows.append(QueueRow(
            name=name, source=source, limits=limits, counts=entry["counts"],
            oldest=ago(entry["oldest"]).removesuffix(" ago") if entry["oldest"] else "-",
            edit_url=reverse("admin:dbos_django_databasequeue_change", args=[quote(name)]) if row is not None else None,
            list_url=reverse("admin:dbos_django_workflow_changelist") + "?" + urlencode({"queue": name}),
        ))  # fmt: skip
    return rows


class QueueAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Queues: the list is the overview of every queue; a queue stored in the database can be edited."""

    form = DatabaseQueueForm
    fieldsets = (
        (None, {"fields": ("name",)}),
        ("Concurrency", {"fields": ("concurrency", "worker_concurrency", "partition_concurrency",
                                    "partition_worker_concurrency")}),
        ("Rate limits", {"fields": ("rate_limit_max", "rate_limit_period_sec", "partition_rate_limit_max",
                                    "partition_rate_limit_period_sec")}),
        ("Polling", {"fields": ("polling_interval_sec",)}),
    )  # fmt: skip

    @property
    def alias(self) -> str:
        return conf.get().database

    def get_queryset(self, request: HttpRequest) -> QuerySet[DatabaseQueue]:
        return super().get_queryset(request).using(self.alias)

    def get_readonly_fields(self, request: HttpRequest, obj: DatabaseQueue | None = None) -> tuple[str, ...]:
        return ("name",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: DatabaseQueue | None = None) -> bool:
        return False  # workflows may still wait on it: a queue is not deleted from here

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Every queue with its load, instead of a list of the database rows only."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        context = {
            **admin_context(self, request, "Queues"),
            "queues": overview(self.alias),
            "has_add_permission": self.has_add_permission(request),
            "statuses": ("ENQUEUED", "DELAYED", "PENDING"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/dbos_django/databasequeue/overview.html", context)

    def save_model(self, request: HttpRequest, obj: DatabaseQueue, form: Any, change: bool) -> None:
        """Store the limits through the engine, which also tells this process's dispatcher."""
        DBOS.register_queue(obj.name, on_conflict="always_update", **queue_limits(form.cleaned_data))
