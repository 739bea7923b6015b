"""The workers page: each executor's heartbeat, alive or dead, and what it runs."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from .. import conf
from ..models import Executor, Workflow
from .display import ago, short_version, status_badge, when
from .display import now_ms as current_ms


def heartbeat_cutoff() -> int:
    """Epoch ms before which a heartbeat means a dead worker (``WORKER_TIMEOUT`` ago)."""
    return current_ms() - int(conf.get().worker_timeout * 1000)


def is_alive(executor: Executor) -> bool:
    """Whether the worker's last heartbeat is newer than ``WORKER_TIMEOUT``."""
    return executor.heartbeat_at >= heartbeat_cutoff()


def alive_count(alias: str) -> int:
    """How many workers sent a heartbeat within ``WORKER_TIMEOUT``."""
    return Executor.objects.using(alias).filter(heartbeat_at__gte=heartbeat_cutoff()).count()


def pending_by_executor(alias: str, executor_ids: list[str]) -> dict[str, int]:
    """How many PENDING workflows each executor owns (what recovery would take over if it died)."""
    rows = (Workflow.objects.using(alias).filter(status="PENDING", executor_id__in=executor_ids)
            .values_list("executor_id").annotate(n=Count("pk")).order_by())  # fmt: skip
    return {executor: n for executor, n in rows}


class AliveFilter(admin.SimpleListFilter):
    """Alive (recent heartbeat) or dead workers."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("alive", "alive"), ("dead", "dead")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Executor]) -> QuerySet[Executor]:
        if self.value() == "alive":
            return queryset.filter(heartbeat_at__gte=heartbeat_cutoff())
        if self.value() == "dead":
            return queryset.filter(heartbeat_at__lt=heartbeat_cutoff())
        return queryset


class WorkerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: rows are written by the workers' heartbeats and removed when a dead worker is taken over."""

    list_display = ("executor_id", "state", "hostname", "pid", "version", "queue_list", "started",
                    "last_heartbeat", "running", "pending_workflows")  # fmt: skip
    list_filter = (AliveFilter,)
    search_fields = ("=executor_id", "^hostname")
    ordering = ("-heartbeat_at",)
    sortable_by = ()
    actions = None

    @property
    def alias(self) -> str:
        return conf.get().database

    def get_queryset(self, request: HttpRequest) -> QuerySet[Executor]:
        return super().get_queryset(request).using(self.alias)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        context = {"worker_timeout": conf.get().worker_timeout, **(extra_context or {})}
        return super().changelist_view(request, context)

    @admin.display(description="state")
    def state(self, obj: Executor) -> SafeString:
        return status_badge("alive" if is_alive(obj) else "dead")

    @admin.display(description="version")
    def version(self, obj: Executor) -> SafeString | str:
        return short_version(obj.application_version)

    @admin.display(description="queues")
    def queue_list(self, obj: Executor) -> str:
        return obj.queues.replace(",", ", ") or "all"

    @admin.display(description="started")
    def started(self, obj: Executor) -> str:
        return when(obj.started_at)

    @admin.display(description="last heartbeat")
    def last_heartbeat(self, obj: Executor) -> SafeString:
        return format_html('<span title="{}">{}</span>', when(obj.heartbeat_at), ago(obj.heartbeat_at))

    @admin.display(description="pending")
    def pending_workflows(self, obj: Executor) -> SafeString:
        query = urlencode({"executor": obj.executor_id, "status__exact": "PENDING"})
        count = pending_by_executor(self.alias, [obj.executor_id]).get(obj.executor_id, 0)
        return format_html('<a href="{}?{}">{}</a>', reverse("admin:dbos_django_workflow_changelist"), query, count)
