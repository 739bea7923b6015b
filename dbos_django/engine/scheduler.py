"""The scheduler: every process running workflows starts the ticks that came due, exactly once.

There is no "beat" process. Each scheduler looks at the ACTIVE schedules every
``SCHEDULER_INTERVAL`` seconds (so schedules added, changed or paused in the database take effect
within it) and enqueues each due tick under an id made of the schedule's name and the tick's
instant: when several workers see the same tick, the id lets one row in, and it runs once.
After downtime only the most recent missed tick fires, unless the schedule has automatic
backfill: then every missed tick fires, oldest first, ``MAX_BACKFILL_PER_PASS`` at a time.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import close_old_connections

from .. import conf
from ..models import Schedule
from ..storage import schedules as store
from ..storage.queues import INTERNAL_QUEUE
from . import clock, cron
from .context import SetWorkflowIDScope
from .enqueue import Target, enqueue_id
from .registry import registry

if TYPE_CHECKING:
    from .runtime import Runtime

logger = logging.getLogger("dbos_django")
SCHEDULER_INTERVAL = 1.0
MAX_BACKFILL_PER_PASS = 100


def _arguments(schedule: Schedule, tick: datetime) -> tuple[Any, ...]:
    if schedule.kind == "decorator":
        return (tick, datetime.fromtimestamp(clock.now_ms() / 1000, tz=UTC).astimezone(tick.tzinfo))
    return (tick, conf.get().serializer.deserialize(schedule.context))


def fire(schedule: Schedule, tick: datetime, *, workflow_id: str | None = None) -> str:
    """Enqueue the schedule's workflow for ``tick`` (once per tick, whoever else tries)."""
    target = Target(schedule.workflow_name, _arguments(schedule, tick), schedule.workflow_class_name)
    with SetWorkflowIDScope(workflow_id or cron.workflow_id(schedule.schedule_name, tick)):
        return enqueue_id(schedule.queue_name or INTERNAL_QUEUE, target, {}, None)


def run_pass(alias: str) -> int:
    """Fire every due tick of every active schedule; return how many ticks were fired."""
    now = clock.now_ms()
    fired = 0
    for schedule in store.active(alias):
        try:
            fired += _fire_due(alias, schedule, now)
        except Exception:
            logger.exception("Schedule %s could not fire", schedule.schedule_name)
    return fired


def _fire_due(alias: str, schedule: Schedule, now_ms: int) -> int:
    tz = cron.zone(schedule.cron_timezone)
    after = schedule.last_fired_at if schedule.last_fired_at is not None else schedule.created_at
    if schedule.automatic_backfill:
        ticks = cron.due(schedule.schedule, tz, after, now_ms, MAX_BACKFILL_PER_PASS)
    else:
        latest = cron.latest(schedule.schedule, tz, after, now_ms)
        ticks = [latest] if latest is not None else []
    for tick in ticks:
        fire(schedule, tick)
        store.mark_fired(alias, schedule.schedule_id, int(tick.timestamp() * 1000))
        logger.info("Schedule %s fired for %s", schedule.schedule_name, tick.isoformat())
    return len(ticks)


def register_code_schedules(alias: str) -> None:
    """Store the ``@DBOS.scheduled`` schedules (a paused one stays paused; a new cron counts from now)."""
    now = clock.now_ms()
    rows = [Schedule(schedule_id=str(uuid.uuid4()), schedule_name=name, workflow_name=name, schedule=expression,
                     kind="decorator", created_at=now, application_name=conf.get().application_name)
            for name, expression in registry.schedules.items()]  # fmt: skip
    if rows:
        store.upsert(alias, rows, keep_status=True)


class Scheduler:
    """The scheduler thread of a runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dbos-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(SCHEDULER_INTERVAL * random.uniform(0.9, 1.1)):
            try:
                if run_pass(self.runtime.alias):
                    self.runtime.wake_queue(None)
            except Exception:
                logger.exception("Scheduler pass failed; retrying")
            finally:
                close_old_connections()
