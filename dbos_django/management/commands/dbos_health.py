"""``python manage.py dbos_health``: a probe for containers and monitors. One line of output.

Exit status: 0 healthy ("OK: ..." on stdout). Otherwise "UNHEALTHY: ..." on stderr and the code
of the first check that failed: 3 database, 4 migrations, 5 worker heartbeat, 6 ENQUEUED backlog,
7 PENDING age. 1 is a bad option, 2 a bad command line (argparse).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dbos_django import conf
from dbos_django.engine import health


class Command(BaseCommand):
    help = ("Exit 0 if the database answers, migrations are applied and a worker heartbeat is recent "
            "(and, optionally, no workflow waits or runs too long); else exit with the failed check's code.")  # fmt: skip
    requires_system_checks: list[str] = []  # a probe must be fast and only say what it checks

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--worker-max-age", type=float, metavar="SECONDS",
                            help="newest worker heartbeat must be younger (default: DBOS WORKER_TIMEOUT; 0: skip)")  # fmt: skip
        parser.add_argument("--max-enqueued-age", type=float, metavar="SECONDS",
                            help="fail if a workflow has been ENQUEUED for longer")  # fmt: skip
        parser.add_argument("--max-pending-age", type=float, metavar="SECONDS",
                            help="fail if a workflow has been PENDING for longer")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        thresholds = health.Thresholds(worker_max_age=self._worker_max_age(options["worker_max_age"]),
                                       max_enqueued_age=self._age(options, "max_enqueued_age"),
                                       max_pending_age=self._age(options, "max_pending_age"))  # fmt: skip
        try:
            found = health.check(thresholds)
        except health.Unhealthy as failed:
            self.stderr.write(f"UNHEALTHY: {failed.message}")
            raise SystemExit(failed.exit_code) from None
        self.stdout.write("OK: " + ", ".join(found))

    def _age(self, options: dict[str, Any], key: str) -> float | None:
        seconds = options[key]
        if seconds is not None and seconds <= 0:
            raise CommandError(f"--{key.replace('_', '-')} must be a positive number of seconds, not {seconds:g}")
        return seconds

    def _worker_max_age(self, seconds: float | None) -> float | None:
        if seconds is None:
            return conf.get().worker_timeout
        if seconds < 0:
            raise CommandError(f"--worker-max-age must be zero (skip the check) or more, not {seconds:g}")
        return seconds or None
