"""The admin's forms. They take names, ids and numbers: nothing a request sends is ever unpickled."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.module_loading import autodiscover_modules

from .. import conf
from ..engine import cron
from ..engine.registry import registry
from ..models import DatabaseQueue, Schedule, StepOutput
from ..queue import Queue


def step_choices(steps: list[StepOutput]) -> list[tuple[int, str]]:
    """One choice per recorded step, and one after the last (re-run only what follows it)."""
    choices = [(s.function_id, f"{s.function_id}. {s.function_name}" + (" (failed)" if s.error else ""))
               for s in steps]  # fmt: skip
    after = steps[-1].function_id + 1 if steps else 1
    label = "after the last recorded step: reuse every step" if steps else "1. the start: run it all again"
    return [*choices, (after, f"{after}. {label}")]


class ForkForm(forms.Form):
    """Pick the step a fork starts from: the steps before it are reused, it and the rest run again."""

    start_step = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Run again from step")

    def __init__(self, *args: Any, steps: list[StepOutput], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["start_step"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = step_choices(steps)
        failed = next((s.function_id for s in steps if s.error), None)
        field.initial = failed if failed is not None else 1


def _limit(value: int | None, period: float | None, label: str) -> dict[str, Any] | None:
    if value is None and period is None:
        return None
    if value is None or period is None:
        raise ValidationError(f"{label}: set both the number of starts and the period, or neither")
    return {"limit": value, "period": period}


QUEUE_LIMITS = ("concurrency", "worker_concurrency", "partition_concurrency", "partition_worker_concurrency")


def queue_limits(data: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``DBOS.register_queue`` from a queue form's cleaned data."""
    return {
        **{key: data.get(key) for key in QUEUE_LIMITS},
        "limiter": _limit(data.get("rate_limit_max"), data.get("rate_limit_period_sec"), "Rate limit"),
        "partition_limiter": _limit(data.get("partition_rate_limit_max"), data.get("partition_rate_limit_period_sec"),
                                    "Partition rate limit"),
        "polling_interval_sec": data.get("polling_interval_sec") or 1.0,
    }  # fmt: skip


class DatabaseQueueForm(forms.ModelForm):  # type: ignore[type-arg]
    """A queue stored in the database; its limits are checked as ``Queue`` checks them."""

    class Meta:
        model = DatabaseQueue
        fields = ("name", *QUEUE_LIMITS, "rate_limit_max", "rate_limit_period_sec", "partition_rate_limit_max",
                  "partition_rate_limit_period_sec", "polling_interval_sec")  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            Queue(data.get("name") or self.instance.name, register=False, **queue_limits(data))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        return data


def workflow_names() -> list[str]:
    """The registered workflows of this process (the ``workflows`` modules of every app imported first)."""
    autodiscover_modules("workflows")
    return sorted(registry.workflows)


class ScheduleCreateForm(forms.ModelForm):  # type: ignore[type-arg]
    """A new schedule stored in the database: its workflow is called ``(scheduled_time, context)``."""

    workflow_name = forms.ChoiceField(label="Workflow")
    context = forms.JSONField(required=False, initial=None, help_text="JSON, passed as the workflow's second argument")

    class Meta:
        model = Schedule
        fields = ("schedule_name", "workflow_name", "schedule", "cron_timezone", "queue_name", "automatic_backfill",
                  "context")  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        workflow = self.fields["workflow_name"]
        assert isinstance(workflow, forms.ChoiceField)
        workflow.choices = [(name, name) for name in workflow_names()]
        stored = DatabaseQueue.objects.using(conf.get().database).values_list("name", flat=True)
        names = sorted(name for name in {*registry.queues, *stored} if not name.startswith("_dbos"))
        self.fields["queue_name"] = forms.ChoiceField(required=False, label="Queue", choices=[
            ("", "(DBOS's internal queue)"), *((name, name) for name in names)])  # fmt: skip

    def clean_schedule(self) -> str:
        expression = self.cleaned_data["schedule"].strip()
        try:
            cron.validate(expression, "this schedule")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        return expression

    def clean_cron_timezone(self) -> str | None:
        zone = (self.cleaned_data.get("cron_timezone") or "").strip() or None
        try:
            cron.checked_zone(zone, "this schedule")
        except ValueError as exc:  # DBOSInvalidArgumentError, whatever zoneinfo raised (a folder is an OSError)
            raise ValidationError(f"Unknown time zone {zone!r}") from exc
        return zone
