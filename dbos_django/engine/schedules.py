"""The schedule API (as DBOS 3.4): create, list, get, pause, resume, delete, apply, backfill, trigger."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict

from .. import conf
from ..decorators import workflow_call
from ..error import DBOSException, DBOSInvalidArgumentError
from ..models import Schedule
from ..serialization import store_value
from ..storage import schedules as store
from . import arguments, clock, cron
from .context import in_workflow_body
from .handles import WorkflowHandle
from .registry import registry
from .scheduler import fire
from .steps import run_internal_step


class WorkflowSchedule(TypedDict):
    """A schedule as ``list_schedules`` and ``get_schedule`` return it."""

    schedule_id: str
    schedule_name: str
    workflow_name: str
    workflow_class_name: str | None
    schedule: str
    status: str
    context: Any
    last_fired_at: str | None
    automatic_backfill: bool
    cron_timezone: str | None
    queue_name: str | None
    application_name: str | None


class ScheduleInput(TypedDict, total=False):
    """One schedule of ``apply_schedules``."""

    schedule_name: str
    workflow_fn: Callable[..., Any]
    schedule: str
    context: Any
    automatic_backfill: bool
    cron_timezone: str | None
    queue_name: str | None


def _alias() -> str:
    return conf.get().database


def scheduled(expression: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@DBOS.scheduled(cron)``: run the workflow below at every tick, called ``(scheduled_time, actual_time)``."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        info, _ = workflow_call(func, ())
        cron.validate(expression, f"scheduled workflow {info.name}")
        registry.schedules[info.name] = expression
        return func

    return decorate


def _row(name: str, workflow_fn: Callable[..., Any], expression: str, context: Any, automatic_backfill: bool,
         cron_timezone: str | None, queue_name: str | None) -> Schedule:  # fmt: skip
    arguments.text(name, "schedule name")
    info, _ = workflow_call(workflow_fn, ())
    cron.validate(expression, f"schedule {name}")
    cron.checked_zone(cron_timezone, f"schedule {name}")
    if queue_name is not None:
        arguments.known_queue(queue_name)
    return Schedule(schedule_id=str(uuid.uuid4()), schedule_name=name, workflow_name=info.name, schedule=expression,
                    context=store_value(conf.get().serializer, context, f"The context of schedule {name}"), automatic_backfill=automatic_backfill,
                    cron_timezone=cron_timezone, queue_name=queue_name, created_at=clock.now_ms(),
                    application_name=conf.get().application_name, kind="dynamic")  # fmt: skip


def create(*, schedule_name: str, workflow_fn: Callable[..., Any], schedule: str, context: Any = None,
           automatic_backfill: bool = False, cron_timezone: str | None = None, queue_name: str | None = None) -> None:  # fmt: skip
    """Create a schedule stored in the database; raise if the name is taken."""
    row = _row(schedule_name, workflow_fn, schedule, context, automatic_backfill, cron_timezone, queue_name)

    def create_row() -> None:
        if store.get(_alias(), schedule_name) is not None:
            raise DBOSException(f"A schedule named {schedule_name} already exists")
        store.upsert(_alias(), [row], keep_status=False)

    run_internal_step("DBOS.createSchedule", create_row)


def apply(schedules: list[ScheduleInput]) -> None:
    """Create or update several schedules at once (atomically). Not inside a workflow."""
    if in_workflow_body() is not None:
        raise DBOSException("apply_schedules() cannot be called from within a workflow")
    for entry in schedules:
        missing = [k for k in ("schedule_name", "workflow_fn", "schedule") if not isinstance(entry, dict) or k not in entry]
        if missing:
            raise DBOSInvalidArgumentError(f"Invalid schedule {entry!r} for apply_schedules(): it needs "
                                           f"{', '.join(missing)}")  # fmt: skip
    rows = [_row(s["schedule_name"], s["workflow_fn"], s["schedule"], s.get("context"),
                 s.get("automatic_backfill", False), s.get("cron_timezone"), s.get("queue_name")) for s in schedules]  # fmt: skip
    store.upsert(_alias(), rows, keep_status=False)


def _public(row: Schedule, *, load_context: bool = True) -> WorkflowSchedule:
    fired = (datetime.fromtimestamp(row.last_fired_at / 1000, tz=cron.zone(row.cron_timezone)).isoformat()
             if row.last_fired_at is not None else None)  # fmt: skip
    return WorkflowSchedule(
        schedule_id=row.schedule_id, schedule_name=row.schedule_name, workflow_name=row.workflow_name,
        workflow_class_name=row.workflow_class_name, schedule=row.schedule, status=row.status,
        context=conf.get().serializer.deserialize(row.context) if load_context else None, last_fired_at=fired,
        automatic_backfill=row.automatic_backfill, cron_timezone=row.cron_timezone, queue_name=row.queue_name,
        application_name=row.application_name,
    )  # fmt: skip


def list_all(*, status: str | None = None, workflow_name: str | None = None, schedule_name_prefix: str | None = None,
             load_context: bool = True) -> list[WorkflowSchedule]:  # fmt: skip
    """The schedules; ``load_context=False`` leaves each context (which may be pickled) unread, as None."""
    rows = store.listing(_alias(), status=status, workflow_name=workflow_name, prefix=schedule_name_prefix)
    return [_public(row, load_context=load_context) for row in rows]


def get(name: str) -> WorkflowSchedule | None:
    row = store.get(_alias(), name)
    return _public(row) if row is not None else None


def _existing(name: str) -> Schedule:
    row = store.get(_alias(), name)
    if row is None:
        raise DBOSException(f"No schedule named {name}")
    return row


def pause(name: str) -> None:
    run_internal_step("DBOS.pauseSchedule", lambda: _existing(name) and store.set_status(_alias(), name, Schedule.PAUSED))


def resume(name: str) -> None:
    run_internal_step("DBOS.resumeSchedule", lambda: _existing(name) and store.set_status(_alias(), name, Schedule.ACTIVE))


def delete(name: str) -> None:
    run_internal_step("DBOS.deleteSchedule", lambda: store.delete(_alias(), name))


def backfill(name: str, start: datetime, end: datetime) -> list[WorkflowHandle[Any]]:
    """Start the workflow for every tick in ``(start, end)``, skipping ticks that already ran."""
    for label, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime):
            raise DBOSInvalidArgumentError(f"Invalid backfill {label} {value!r}: it must be a datetime")
    row = _existing(name)
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    ticks = cron.due(row.schedule, cron.zone(row.cron_timezone), start_ms, end_ms - 1, 1_000_000)
    return [WorkflowHandle(fire(row, tick)) for tick in ticks]


def trigger(name: str) -> WorkflowHandle[Any]:
    """Start the schedule's workflow now, outside its cron."""
    row = _existing(name)
    now = datetime.fromtimestamp(clock.now_ms() / 1000, tz=cron.zone(row.cron_timezone))
    return WorkflowHandle(fire(row, now, workflow_id=f"sched-{name}-trigger-{now.isoformat()}"))


def next_ticks(name: str, count: int = 3) -> list[datetime]:
    """The next ``count`` fire times of a schedule (for people: commands, the admin)."""
    row = _existing(name)
    ticks = cron.ticks_after(row.schedule, cron.zone(row.cron_timezone), clock.now_ms())
    return [next(ticks) for _ in range(count)]
