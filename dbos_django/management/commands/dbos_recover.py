"""``python manage.py dbos_recover --executor-id ID | --dead``: hand PENDING workflows back to the queues.

Exit status: 0 done (whatever the count); 1 refused (the executor is alive and ``--force`` was not
given); 2 a bad command line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dbos_django import conf
from dbos_django.engine import recovery


class Command(BaseCommand):
    help = ("Re-enqueue the PENDING workflows of an executor, or of every executor whose heartbeat is older "
            "than DBOS WORKER_TIMEOUT; any worker then resumes them from their last step.")  # fmt: skip

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--executor-id", metavar="ID", help="recover the workflows of this executor")
        which.add_argument("--dead", action="store_true",
                           help="recover the workflows of every executor silent for WORKER_TIMEOUT")  # fmt: skip
        parser.add_argument("--force", action="store_true",
                            help="with --executor-id: recover even if that executor's heartbeat is recent")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        settings = conf.get()
        if options["dead"]:
            dead, count = recovery.recover_silent_executors(settings.database, settings.worker_timeout)
            if not dead:
                self.stdout.write(f"No executor has been silent for {settings.worker_timeout:g}s: nothing to recover")
            else:
                self.stdout.write(f"Re-enqueued {count} PENDING workflow(s) of dead executor(s) {', '.join(dead)}")
            return
        executor_id = options["executor_id"]
        age = recovery.heartbeat_age(settings.database, executor_id)
        if age is not None and age < settings.worker_timeout and not options["force"]:
            raise CommandError(f"Executor {executor_id} is alive (heartbeat {age:.0f}s ago): its workflows are "
                               "running there. Use --force to re-enqueue them anyway.")  # fmt: skip
        count = recovery.recover_executors(settings.database, [executor_id])
        self.stdout.write(f"Re-enqueued {count} PENDING workflow(s) of executor {executor_id}")

