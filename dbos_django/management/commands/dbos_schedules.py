"""``python manage.py dbos_schedules list|pause|resume|trigger|backfill``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dbos_django.engine import schedules
from dbos_django.engine.scheduler import register_code_schedules
from dbos_django.error import DBOSException


class Command(BaseCommand):
    help = "List and control cron schedules (those declared with @DBOS.scheduled and those in the database)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="name, cron, time zone, status, last fired, next three fire times")
        for action in ("pause", "resume", "trigger"):
            actions.add_parser(action, help=f"{action} a schedule").add_argument("name")
        backfill = actions.add_parser("backfill", help="start every tick strictly between START and END")
        backfill.add_argument("name")
        backfill.add_argument("start", type=datetime.fromisoformat, help="ISO 8601, e.g. 2026-11-01T00:00+00:00")
        backfill.add_argument("end", type=datetime.fromisoformat)

    def handle(self, *args: Any, **options: Any) -> None:
        from dbos_django import conf
        from dbos_django.engine.registry import discover

        discover()  # code schedules show up before any worker has started
        register_code_schedules(conf.get().database)
        action, name = options["action"], str(options.get("name") or "")
        try:
            if action == "list":
                self._list()
            elif action == "pause":
                schedules.pause(name)
                self.stdout.write(f"Paused {name}")
            elif action == "resume":
                schedules.resume(name)
                self.stdout.write(f"Resumed {name}")
            elif action == "trigger":
                self.stdout.write(f"Triggered {name}: workflow {schedules.trigger(name).workflow_id}")
            else:
                handles = schedules.backfill(name, options["start"], options["end"])
                self.stdout.write(f"Backfilled {name}: {len(handles)} workflows enqueued")
        except DBOSException as exc:
            raise CommandError(exc.message) from exc

    def _list(self) -> None:
        rows = schedules.list_all(load_context=False)  # a command never unpickles what is stored
        if not rows:
            self.stdout.write("No schedules.")
            return
        self.stdout.write(f"{'NAME':30} {'CRON':18} {'TIME ZONE':16} {'STATUS':7} {'LAST FIRED':26} NEXT")
        for row in rows:
            upcoming = ", ".join(t.isoformat() for t in schedules.next_ticks(row["schedule_name"]))
            zone = row["cron_timezone"] or "(TIME_ZONE)"
            self.stdout.write(f"{row['schedule_name']:30} {row['schedule']:18} {zone:16} {row['status']:7} "
                              f"{row['last_fired_at'] or '-':26} {upcoming}")  # fmt: skip
