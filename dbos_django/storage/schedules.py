"""Schedule rows: read by every scheduler, written by the schedule API."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from ..models import Schedule
from . import connections as conns


def active(alias: str) -> list[Schedule]:
    return conns.run(alias, lambda c: list(Schedule.objects.using(alias).filter(status=Schedule.ACTIVE)))


def mark_fired(alias: str, schedule_id: str, tick_ms: int) -> None:
    """Remember the latest tick started (only ever forward, whichever worker gets there first)."""
    query = Schedule.objects.using(alias).filter(Q(last_fired_at__lt=tick_ms) | Q(last_fired_at=None),
                                                 schedule_id=schedule_id)  # fmt: skip
    conns.run(alias, lambda c: query.update(last_fired_at=tick_ms))


def get(alias: str, name: str) -> Schedule | None:
    return conns.run(alias, lambda c: Schedule.objects.using(alias).filter(schedule_name=name).first())


def upsert(alias: str, rows: list[Schedule], *, keep_status: bool) -> None:
    """Create or update schedules by name, atomically; ``keep_status`` leaves a paused one paused."""

    def op(conn: object) -> None:
        with transaction.atomic(using=alias):
            for row in rows:
                found = Schedule.objects.using(alias).filter(schedule_name=row.schedule_name).first()
                if found is None:
                    try:
                        with transaction.atomic(using=alias):  # a savepoint: the transaction survives a conflict
                            row.save(using=alias, force_insert=True)
                        continue
                    except IntegrityError:  # another process launching at the same moment inserted it first
                        found = Schedule.objects.using(alias).get(schedule_name=row.schedule_name)
                changed = (found.schedule != row.schedule or found.cron_timezone != row.cron_timezone)
                for field in ("workflow_name", "workflow_class_name", "schedule", "context", "automatic_backfill",
                              "cron_timezone", "queue_name", "application_name", "kind"):  # fmt: skip
                    setattr(found, field, getattr(row, field))
                if not keep_status:
                    found.status = row.status
                if changed:
                    found.last_fired_at = row.created_at  # a new cron starts counting now
                found.save(using=alias)

    conns.run(alias, op)


def set_status(alias: str, name: str, status: str) -> int:
    return conns.run(alias, lambda c: Schedule.objects.using(alias).filter(schedule_name=name).update(status=status))


def delete(alias: str, name: str) -> int:
    return conns.run(alias, lambda c: Schedule.objects.using(alias).filter(schedule_name=name).delete()[0])


def listing(alias: str, *, status: str | None, workflow_name: str | None, prefix: str | None) -> list[Schedule]:
    query = Schedule.objects.using(alias).order_by("schedule_name")
    if status is not None:
        query = query.filter(status=status)
    if workflow_name is not None:
        query = query.filter(workflow_name=workflow_name)
    if prefix is not None:
        query = query.filter(schedule_name__startswith=prefix)
    return conns.run(alias, lambda c: list(query))
