"""Schedules: the list with the next ticks; pause, resume, trigger now, delete and create, through the engine.

Pausing, resuming and triggering need Django's change permission on schedules, deleting the
delete permission, creating the add permission. A schedule's page is read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .. import conf
from ..decorators import WORKFLOW_ATTR
from ..engine import cron
from ..engine import schedules as engine
from ..engine.registry import registry
from ..models import Schedule
from .actions import GuardedActionsMixin, admin_context, chosen_action
from .display import now_ms, status_badge, value_block, when
from .forms import ScheduleCreateForm
from .operations import workflow_url

NEXT_TICKS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleOperation:
    """One schedule operation: its permission, its words, and the engine call."""

    name: str
    permission: str
    verb: str
    past: str
    explanation: str
    apply: Callable[[str], SafeString | str | None]  # schedule name -> what it started, if anything


def _trigger(name: str) -> SafeString:
    workflow_id = engine.trigger(name).workflow_id
    return format_html('<a href="{}">{}</a>', workflow_url(workflow_id), workflow_id)


SCHEDULE_OPERATIONS = {op.name: op for op in (
    ScheduleOperation(name="pause", permission="manage", verb="Pause", past="Paused", apply=engine.pause,
                      explanation="No tick starts the workflow until the schedule is resumed."),
    ScheduleOperation(name="resume", permission="manage", verb="Resume", past="Resumed", apply=engine.resume,
                      explanation="The schedule fires again from its next tick (missed ticks fire only with "
                                  "automatic backfill)."),
    ScheduleOperation(name="trigger", permission="manage", verb="Trigger", past="Triggered", apply=_trigger,
                      explanation="The schedule's workflow is enqueued now, outside its cron."),
    ScheduleOperation(name="delete", permission="delete", verb="Delete", past="Deleted", apply=engine.delete,
                      explanation="The schedule is removed; workflows it started are kept. A schedule declared "
                                  "with @DBOS.scheduled comes back when a worker starts."),
)}  # fmt: skip


def workflow_stub(name: str) -> Callable[..., Any]:
    """A callable the schedule API accepts for a registered workflow known only by its name."""
    info = registry.workflows[name]

    def stub(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("only the schedule's registration uses this stub")

    setattr(stub, WORKFLOW_ATTR, info)
    return stub


def _list_action(op: ScheduleOperation) -> Callable[..., HttpResponse | None]:
    def action(model_admin: ScheduleAdmin, request: HttpRequest, queryset: QuerySet[Schedule]) -> HttpResponse | None:
        if request.POST.get("confirm") == "yes":
            model_admin.perform(request, op, list(queryset))
            return None
        return model_admin.confirmation(request, op, list(queryset), from_list=True)

    action.__name__ = f"{op.name}_selected"
    return admin.action(permissions=[op.permission], description=f"{op.verb} selected schedules…")(action)


class ScheduleAdmin(GuardedActionsMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Schedules, read-only; every change is one of the operations above, confirmed first."""

    list_display = ("schedule_name", "workflow_name", "schedule", "cron_timezone", "status_label", "last_fired",
                    "next_tick", "queue_name", "kind")  # fmt: skip
    list_filter = ("status", "kind")
    search_fields = ("schedule_name", "workflow_name")
    ordering = ("schedule_name",)
    actions = [_list_action(SCHEDULE_OPERATIONS[name]) for name in ("pause", "resume", "trigger", "delete")]
    fieldsets = (
        (None, {"fields": ("schedule_name", "workflow_name", "workflow_class_name", "status_label", "kind")}),
        ("When", {"fields": ("schedule", "cron_timezone", "next_ticks", "last_fired", "automatic_backfill",
                             "created")}),
        ("How", {"fields": ("queue_name", "context_value", "application_name")}),
    )  # fmt: skip
    readonly_fields = ("status_label", "next_ticks", "last_fired", "created", "context_value")

    @property
    def alias(self) -> str:
        return conf.get().database

    def get_queryset(self, request: HttpRequest) -> QuerySet[Schedule]:
        return super().get_queryset(request).using(self.alias)

    # Permissions: the page is read-only; "manage" (pause, resume, trigger) is Django's change permission.
    def has_change_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        return False

    def has_manage_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        return bool(request.user.has_perm("dbos_django.change_schedule"))

    def allows(self, request: HttpRequest, permission: str) -> bool:
        return bool(getattr(self, f"has_{permission}_permission")(request))

    # Creating: the engine writes the row.
    def get_form(self, request: HttpRequest, obj: Schedule | None = None, change: bool = False,
                 **kwargs: Any) -> type[ModelForm]:  # type: ignore[type-arg]  # fmt: skip
        if obj is None:
            return ScheduleCreateForm
        return super().get_form(request, obj, change, **kwargs)  # type: ignore[no-any-return]

    def get_fieldsets(self, request: HttpRequest, obj: Schedule | None = None) -> Any:
        if obj is None:
            return ((None, {"fields": tuple(ScheduleCreateForm.Meta.fields)}),)
        return self.fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Schedule | None = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Schedule, form: Any, change: bool) -> None:
        data = form.cleaned_data
        engine.create(schedule_name=data["schedule_name"], workflow_fn=workflow_stub(data["workflow_name"]),
                      schedule=data["schedule"], context=data.get("context"),
                      automatic_backfill=data.get("automatic_backfill", False),
                      cron_timezone=data.get("cron_timezone"), queue_name=data.get("queue_name") or None)  # fmt: skip
        obj.schedule_id = Schedule.objects.using(self.alias).get(schedule_name=data["schedule_name"]).schedule_id

    # Pages of one schedule
    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [path(f"<path:object_id>/{name}/", wrap(self._object_view(name)), name=f"dbos_django_schedule_{name}")
                for name in ("pause", "resume", "trigger")] + super().get_urls()  # fmt: skip

    def _object_view(self, name: str) -> Callable[..., HttpResponse]:
        def view(request: HttpRequest, object_id: str) -> HttpResponse:
            return self.object_action(request, object_id, SCHEDULE_OPERATIONS[name])

        return view

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return self.object_action(request, object_id, SCHEDULE_OPERATIONS["delete"])

    def object_action(self, request: HttpRequest, object_id: str, op: ScheduleOperation) -> HttpResponse:
        """GET: confirm ``op`` on one schedule; POST: run it and go back."""
        if not (self.has_view_permission(request) and self.allows(request, op.permission)):  # before the lookup
            raise PermissionDenied
        schedule = self.get_object(request, unquote(object_id))
        if schedule is None:
            raise Http404(f"No schedule {object_id}")
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            self.perform(request, op, [schedule])
            if op.name == "delete":
                return HttpResponseRedirect(reverse("admin:dbos_django_schedule_changelist"))
            return HttpResponseRedirect(reverse("admin:dbos_django_schedule_change", args=[quote(schedule.pk)]))
        return self.confirmation(request, op, [schedule], from_list=False)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:  # fmt: skip
        schedule = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if schedule is not None:
            context["operations"] = [op for op in SCHEDULE_OPERATIONS.values()
                                     if self.allows(request, op.permission) and _applies(op, schedule)]  # fmt: skip
        return super().change_view(request, object_id, form_url, context)

    def perform(self, request: HttpRequest, op: ScheduleOperation, schedules: list[Schedule]) -> None:
        """Run ``op`` on each schedule through the engine, then say what was done."""
        started = [op.apply(s.schedule_name) for s in schedules]
        names = ", ".join(s.schedule_name for s in schedules)
        self.message_user(request, f"{op.past} {len(schedules)} schedule{'s' if len(schedules) != 1 else ''}: {names}.",
                          messages.SUCCESS)  # fmt: skip
        links = [s for s in started if isinstance(s, SafeString)]
        if links:
            started_html = format_html_join(", ", "{}", ((link,) for link in links))
            self.message_user(request, format_html("Started {}.", started_html), messages.INFO)

    def confirmation(self, request: HttpRequest, op: ScheduleOperation, schedules: list[Schedule], *,
                     from_list: bool) -> TemplateResponse:  # fmt: skip
        """The page asking "Pause these schedules?"."""
        back = (reverse("admin:dbos_django_schedule_changelist") if from_list or len(schedules) != 1
                else reverse("admin:dbos_django_schedule_change", args=[quote(schedules[0].pk)]))  # fmt: skip
        context = {
            **admin_context(self, request, f"{op.verb} schedules?"),
            "op": op, "schedules": schedules, "from_list": from_list, "back": back,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_name": chosen_action(request) or f"{op.name}_selected",
        }  # fmt: skip
        return TemplateResponse(request, "admin/dbos_django/schedule/confirm.html", context)

    # Columns and fields
    @admin.display(description="status")
    def status_label(self, obj: Schedule) -> SafeString:
        return status_badge(obj.status)

    @admin.display(description="last fired")
    def last_fired(self, obj: Schedule) -> str:
        return when(obj.last_fired_at)

    @admin.display(description="created")
    def created(self, obj: Schedule) -> str:
        return when(obj.created_at)

    @admin.display(description="next tick")
    def next_tick(self, obj: Schedule) -> str:
        ticks = _next_ticks(obj, 1)
        return ticks[0] if ticks else "-"

    @admin.display(description="next ticks")
    def next_ticks(self, obj: Schedule) -> str:
        return ", ".join(_next_ticks(obj, NEXT_TICKS)) or "-"

    @admin.display(description="context")
    def context_value(self, obj: Schedule) -> SafeString:
        return value_block(obj.context)


def _applies(op: ScheduleOperation, schedule: Schedule) -> bool:
    return not ((op.name == "pause" and schedule.status == Schedule.PAUSED)
                or (op.name == "resume" and schedule.status == Schedule.ACTIVE))  # fmt: skip


def _next_ticks(schedule: Schedule, count: int) -> list[str]:
    if schedule.status == Schedule.PAUSED:
        return ["paused"] if count else []
    try:
        ticks = cron.ticks_after(schedule.schedule, cron.zone(schedule.cron_timezone), now_ms())
        return [next(ticks).isoformat(sep=" ", timespec="seconds") for _ in range(count)]
    except Exception:  # a row written by hand that croniter refuses: say so, do not break the page
        return ["invalid cron expression"]
