"""``python manage.py dbos_worker``: run queued workflows, schedules and recovery."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dbos_django.engine.worker import WorkerOptions, run


class Command(BaseCommand):
    help = "Run queued workflows (and recover the work of dead workers) until SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", action="append", dest="queues", metavar="NAME",
                            help="serve only this queue (repeatable; default: every queue)")
        parser.add_argument("--concurrency", type=int, help="threads running workflows (default: DBOS MAX_THREADS)")
        parser.add_argument("--executor-id", help="this worker's id (default: host-pid-random)")
        parser.add_argument("--burst", action="store_true", help="exit 0 once no work is left")
        parser.add_argument("--grace-period", type=float, default=30.0, metavar="SECONDS",
                            help="on SIGTERM, how long running workflows may take to finish (default 30)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["concurrency"] is not None and options["concurrency"] < 1:
            from django.core.management.base import CommandError

            raise CommandError("--concurrency must be at least 1")
        code = run(WorkerOptions(queues=options["queues"], concurrency=options["concurrency"],
                                 executor_id=options["executor_id"], burst=options["burst"],
                                 grace_period=options["grace_period"]))  # fmt: skip
        if code:
            raise SystemExit(code)
