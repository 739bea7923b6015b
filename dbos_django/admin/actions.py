"""Workflow actions: on the list (admin actions) and on a workflow's page, each confirmed, then run.

Every action has its own permission: ``dbos_django.cancel_workflow``, ``resume_workflow``,
``restart_workflow``, ``fork_workflow``, and Django's ``delete_workflow``. Without it the action is
not offered, and a POST naming it anyway gets a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from ..models import StepOutput, Workflow
from .display import summary
from .forms import ForkForm
from .operations import FORK, OPERATIONS, Operation, workflow_url
from .workers import alive_count

SHOWN = 100  # workflows listed on a confirmation page


def chosen_action(request: HttpRequest) -> str | None:
    """The list action a POST asks for, as Django's ``response_action`` picks it."""
    names = request.POST.getlist("action")
    try:
        return names[int(request.POST.get("index", 0))]
    except (IndexError, ValueError):
        return None


def admin_context(model_admin: Any, request: HttpRequest, title: str) -> dict[str, Any]:
    """What every page of this admin needs, on Django 5.2 and 6.x alike."""
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "ol_breadcrumbs": django.VERSION >= (6, 0),
    }


class GuardedActionsMixin:
    """Refuse (403) a list action the user is not offered, instead of Django's "no action selected"."""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "POST" and "action" in request.POST:
            name = chosen_action(request)
            known = {getattr(a, "__name__", a) for a in (self.actions or [])}  # type: ignore[attr-defined]
            if name in known and name not in self.get_actions(request):  # type: ignore[attr-defined]
                raise PermissionDenied
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


def _list_action(op: Operation) -> Callable[..., HttpResponse | None]:
    """The admin action running ``op`` on the selected workflows, after a confirmation page."""

    def action(model_admin: Any, request: HttpRequest, queryset: QuerySet[Workflow]) -> HttpResponse | None:
        if request.POST.get("confirm") == "yes":
            perform(model_admin, request, op, queryset)
            return None
        return confirmation(model_admin, request, op, queryset, from_list=True)

    action.__name__ = f"{op.name}_selected"
    return admin.action(permissions=[op.permission], description=f"{op.verb} selected workflows…")(action)


@admin.action(permissions=["fork"], description="Fork the selected workflow from a step…")
def fork_selected(model_admin: Any, request: HttpRequest, queryset: QuerySet[Workflow]) -> HttpResponse | None:
    """Open the fork form of the one selected workflow."""
    ids = list(queryset.values_list("pk", flat=True)[:2])
    if request.POST.get("select_across") == "1" or len(ids) != 1:
        model_admin.message_user(request, "Select exactly one workflow to fork it from a step.", messages.WARNING)
        return None
    return redirect(reverse("admin:dbos_django_workflow_fork", args=[quote(ids[0])]))


LIST_ACTIONS = [_list_action(OPERATIONS[name]) for name in ("cancel", "resume", "restart")]
LIST_ACTIONS += [fork_selected, _list_action(OPERATIONS["delete"]), _list_action(OPERATIONS["current_version"])]


def perform(model_admin: Any, request: HttpRequest, op: Operation, queryset: QuerySet[Workflow],
            start_step: int = 1) -> list[str]:  # fmt: skip
    """Run ``op``, record it in the admin's history, tell the user; return the new workflows' ids."""
    targets = list(op.targets(queryset).only("workflow_id", "name", "status")[:SHOWN])
    skipped = op.passed_over(queryset).count()
    log(request, op, targets)
    outcome = op.run(queryset, start_step)
    model_admin.message_user(request, outcome.message, messages.SUCCESS)
    if skipped:
        model_admin.message_user(request, f"{skipped} left as they were: {op.verb.lower()} does not apply to "
                                          f"{', '.join(sorted(op.skipped))} workflows.", messages.WARNING)  # fmt: skip
    if op.name in ("resume", "restart", "fork") and not alive_count(model_admin.alias):
        model_admin.message_user(request, "No worker is alive: queued workflows run once one starts "
                                          "(python manage.py dbos_worker).", messages.WARNING)  # fmt: skip
    return outcome.new_ids


def log(request: HttpRequest, op: Operation, workflows: list[Workflow]) -> None:
    """One admin history entry per workflow acted on (the first ``SHOWN``)."""
    if not workflows or not request.user.pk:
        return
    flag = DELETION if op.name == "delete" else CHANGE
    LogEntry.objects.log_actions(user_id=request.user.pk, queryset=workflows, action_flag=flag,
                                 change_message=f"{op.past} from the admin")  # fmt: skip


def confirmation(model_admin: Any, request: HttpRequest, op: Operation, queryset: QuerySet[Workflow], *,
                 from_list: bool, form: ForkForm | None = None, back: str | None = None,
                 subject: str | None = None) -> TemplateResponse:  # fmt: skip
    """The page asking "Cancel these 3 workflows?", listing what will be done and what will not."""
    targets = op.targets(queryset)
    skipped = op.passed_over(queryset).only("workflow_id", "name", "status")[:SHOWN]
    shown = [summary(w) for w in targets.only("workflow_id", "name", "status")[:SHOWN]]
    count = targets.count() if len(shown) == SHOWN else len(shown)
    context = {
        **admin_context(model_admin, request, f"{op.verb} workflows?"),
        "op": op,
        "targets": shown,
        "target_count": count,
        "target_more": count - len(shown),
        "skipped": [{**summary(w), "reason": op.skipped[w.status]} for w in skipped],
        "from_list": from_list,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action_name": f"{op.name}_selected",
        "form": form,
        "back": back or reverse("admin:dbos_django_workflow_changelist"),
        "subject": subject,
        "workers_alive": alive_count(model_admin.alias),
    }
    return TemplateResponse(request, "admin/dbos_django/workflow/confirm.html", context)


class WorkflowActionsMixin(GuardedActionsMixin):
    """The permissions, list actions and per-workflow action pages of the workflow admin."""

    actions = LIST_ACTIONS

    def _has(self, request: HttpRequest, codename: str) -> bool:
        return bool(request.user.has_perm(f"dbos_django.{codename}_workflow"))

    def has_cancel_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return self._has(request, "cancel")

    def has_resume_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return self._has(request, "resume")

    def has_restart_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return self._has(request, "restart")

    def has_fork_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return self._has(request, "fork")

    def has_move_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return self._has(request, "move")

    def allows(self, request: HttpRequest, permission: str) -> bool:
        """Whether the user holds the permission an operation needs."""
        return bool(getattr(self, f"has_{permission}_permission")(request))

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        urls = [path(f"<path:object_id>/{name}/", wrap(self._object_view(name)), name=f"dbos_django_workflow_{name}")
                for name in ("cancel", "resume", "restart", "current_version")]  # fmt: skip
        urls.append(path("<path:object_id>/fork/", wrap(self.fork_view), name="dbos_django_workflow_fork"))
        return urls + super().get_urls()  # type: ignore[misc]

    def _object_view(self, name: str) -> Callable[..., HttpResponse]:
        def view(request: HttpRequest, object_id: str) -> HttpResponse:
            return self.object_action(request, object_id, OPERATIONS[name])

        return view

    def _workflow(self, request: HttpRequest, object_id: str, op: Operation) -> Workflow:
        # The permissions first: without them, whether the workflow exists is none of the user's business.
        if not (self.has_view_permission(request) and self.allows(request, op.permission)):  # type: ignore[attr-defined]
            raise PermissionDenied
        workflow = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if workflow is None:
            raise Http404(f"No workflow {object_id}")
        return workflow

    def object_action(self, request: HttpRequest, object_id: str, op: Operation) -> HttpResponse:
        """GET: confirm ``op`` on one workflow; POST: run it and go back to the workflow (or to the new one)."""
        workflow = self._workflow(request, object_id, op)
        queryset = self.get_queryset(request).filter(pk=workflow.pk)  # type: ignore[attr-defined]
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            new_ids = perform(self, request, op, queryset)
            return self._after(op, workflow, new_ids)
        return confirmation(self, request, op, queryset, from_list=False, back=workflow_url(workflow.pk),
                            subject=workflow.pk)  # fmt: skip

    def fork_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the steps of a workflow to fork it from; POST: fork it from the chosen step."""
        workflow = self._workflow(request, object_id, FORK)
        steps = list(StepOutput.objects.using(workflow._state.db).filter(workflow_id=workflow.pk)
                     .only("function_id", "function_name", "error").order_by("function_id"))  # fmt: skip
        form = ForkForm(request.POST if request.method == "POST" else None, steps=steps)
        queryset = self.get_queryset(request).filter(pk=workflow.pk)  # type: ignore[attr-defined]
        if request.method == "POST" and request.POST.get("confirm") == "yes" and form.is_valid():
            new_ids = perform(self, request, FORK, queryset, form.cleaned_data["start_step"])
            return self._after(FORK, workflow, new_ids)
        return confirmation(self, request, FORK, queryset, from_list=False, form=form, back=workflow_url(workflow.pk),
                            subject=workflow.pk)  # fmt: skip

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Django's delete page, replaced by the engine's delete with the same confirmation as the others."""
        return self.object_action(request, object_id, OPERATIONS["delete"])

    def _after(self, op: Operation, workflow: Workflow, new_ids: list[str]) -> HttpResponseRedirect:
        if new_ids:
            return HttpResponseRedirect(workflow_url(new_ids[0]))
        if op.name == "delete":
            return HttpResponseRedirect(reverse("admin:dbos_django_workflow_changelist"))
        return HttpResponseRedirect(workflow_url(workflow.pk))
