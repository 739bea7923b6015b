"""The workflow list (fast on millions of rows) and a workflow's read-only page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from .. import conf
from ..models import TERMINAL_STATUSES, Workflow
from . import detail
from .actions import WorkflowActionsMixin, admin_context
from .display import LONG_VALUE, duration, now_ms, short_version, status_badge, value_block, when
from .filters import ExecutorFilter, NameFilter, PendingForFilter, QueueFilter, VersionFilter
from .operations import available
from .paging import EstimatedCountPaginator
from .workers import alive_count, heartbeat_cutoff

# The list never loads the (possibly large) stored values.
LIST_COLUMNS = ("workflow_id", "status", "name", "queue_name", "executor_id", "application_version", "created_at",
                "started_at", "completed_at", "updated_at", "recovery_attempts")  # fmt: skip


def stranded(alias: str) -> dict[str, int]:
    """Versions that waiting workflows are pinned to but no live worker runs (the version policy, made visible)."""
    from ..models import Executor
    from ..storage import control

    live = set(Executor.objects.using(alias).filter(heartbeat_at__gte=heartbeat_cutoff())
               .values_list("application_version", flat=True))  # fmt: skip
    return control.stranded_versions(alias, live) if live else {}


class WorkflowChangeList(ChangeList):
    """The changelist, reading only the listed columns."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Workflow]:
        return super().get_queryset(request, exclude_parameters).only(*LIST_COLUMNS)


def run_time(obj: Workflow) -> int | None:
    """How long the workflow ran (or has been running, or waiting), in ms."""
    if obj.status in TERMINAL_STATUSES:
        return (obj.completed_at or obj.updated_at) - obj.created_at
    if obj.status == "PENDING":
        return now_ms() - (obj.started_at or obj.created_at)
    return None


class WorkflowAdmin(WorkflowActionsMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Workflows: a list with filters and actions, and a page per workflow with its steps and messages."""

    list_display = ("workflow_id", "status_label", "name", "queue", "executor", "version", "created", "run_duration",
                    "attempts")  # fmt: skip
    list_display_links = ("workflow_id",)
    list_filter = ("status", PendingForFilter, NameFilter, QueueFilter, ExecutorFilter, VersionFilter)
    search_fields = ("workflow_id", "name")
    search_help_text = "A workflow id or its beginning, or a workflow's exact name."
    ordering = ("-created_at",)
    sortable_by = ("created",)
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    fieldsets = (
        (None, {"fields": (("workflow_id", "status_label"), ("name", "class_name", "config_name"),
                           ("queue_label", "executor_id"), ("application", "user"))}),
        ("Times", {"fields": (("created", "started", "completed", "updated"),
                              ("run_duration", "recovery_attempts", "deadline", "delayed_until"))}),
        ("Inputs and outcome", {"fields": ("inputs_value", "output_value", "error_value")}),
    )  # fmt: skip
    readonly_fields = ("status_label", "queue_label", "application", "user", "created", "started", "completed",
                       "updated", "run_duration", "deadline", "delayed_until", "inputs_value", "output_value",
                       "error_value")  # fmt: skip

    @property
    def alias(self) -> str:
        """The database holding the workflows (``DBOS["DATABASE"]``)."""
        return conf.get().database

    def get_queryset(self, request: HttpRequest) -> QuerySet[Workflow]:
        return super().get_queryset(request).using(self.alias)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return WorkflowChangeList

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Workflow],
                           search_term: str) -> tuple[QuerySet[Workflow], bool]:  # fmt: skip
        """Match the beginning of the id, or the whole name: both use an index (a name's beginning would not)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(workflow_id__startswith=term) | Q(name=term)), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return False  # a workflow's row changes only through the engine (the actions)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {"workers_alive": alive_count(self.alias), "worker_timeout": conf.get().worker_timeout,
                   "stranded": stranded(self.alias), "current_version": conf.get().version(),
                   **(extra_context or {})}  # fmt: skip
        return super().changelist_view(request, context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:  # fmt: skip
        workflow = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if workflow is not None:
            ops = available(workflow, lambda permission: self.allows(request, permission))
            context.update(detail.context(workflow, self.alias), operations=ops,
                           ol_breadcrumbs=admin_context(self, request, "")["ol_breadcrumbs"])  # fmt: skip
        return super().change_view(request, object_id, form_url, context)

    def action_checkbox(self, obj: Workflow) -> SafeString:
        """The row's checkbox, as Django renders it, without rendering a widget template per row."""
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
                           helpers.ACTION_CHECKBOX_NAME, obj.pk, label)  # fmt: skip

    # Columns and fields
    @admin.display(description="status")
    def status_label(self, obj: Workflow) -> SafeString:
        return status_badge(obj.status)

    @admin.display(description="queue")
    def queue(self, obj: Workflow) -> str:
        return obj.queue_name or "-"

    @admin.display(description="executor")
    def executor(self, obj: Workflow) -> str:
        return obj.executor_id or "-"

    @admin.display(description="attempts")
    def attempts(self, obj: Workflow) -> int:
        return obj.recovery_attempts

    @admin.display(description="version")
    def version(self, obj: Workflow) -> SafeString | str:
        return short_version(obj.application_version)

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Workflow) -> str:
        return when(obj.created_at)

    @admin.display(description="duration")
    def run_duration(self, obj: Workflow) -> str:
        return duration(run_time(obj))

    @admin.display(description="started")
    def started(self, obj: Workflow) -> str:
        return when(obj.started_at)

    @admin.display(description="completed")
    def completed(self, obj: Workflow) -> str:
        return when(obj.completed_at)

    @admin.display(description="updated")
    def updated(self, obj: Workflow) -> str:
        return when(obj.updated_at)

    @admin.display(description="deadline")
    def deadline(self, obj: Workflow) -> str:
        timeout = f" (timeout {duration(obj.workflow_timeout_ms)})" if obj.workflow_timeout_ms else ""
        return when(obj.workflow_deadline_epoch_ms) + timeout

    @admin.display(description="delayed until")
    def delayed_until(self, obj: Workflow) -> str:
        return when(obj.delay_until_epoch_ms)

    @admin.display(description="queue")
    def queue_label(self, obj: Workflow) -> str:
        if not obj.queue_name:
            return "-"
        extras = [f"priority {obj.priority}" if obj.priority else "",
                  f"partition {obj.queue_partition_key}" if obj.queue_partition_key else "",
                  f"deduplication id {obj.deduplication_id}" if obj.deduplication_id else ""]  # fmt: skip
        details = ", ".join(e for e in extras if e)
        return f"{obj.queue_name} ({details})" if details else obj.queue_name

    @admin.display(description="application")
    def application(self, obj: Workflow) -> str:
        return f"{obj.application_name or '-'}, version {obj.application_version or '-'}"

    @admin.display(description="user")
    def user(self, obj: Workflow) -> str:
        if not obj.authenticated_user:
            return "-"
        role = f" as {obj.assumed_role}" if obj.assumed_role else ""
        return f"{obj.authenticated_user}{role}"

    @admin.display(description="inputs")
    def inputs_value(self, obj: Workflow) -> SafeString:
        return value_block(obj.inputs, LONG_VALUE)

    @admin.display(description="output")
    def output_value(self, obj: Workflow) -> SafeString:
        return value_block(obj.output, LONG_VALUE)

    @admin.display(description="error")
    def error_value(self, obj: Workflow) -> SafeString:
        if obj.error is None:
            return value_block(None)
        return format_html('<div class="dbos-error">{}</div>', value_block(obj.error, LONG_VALUE))
