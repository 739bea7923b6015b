"""``python manage.py dbos_prune --older-than DAYS``: delete old finished workflows and all their rows.

Exit status: 0 done (or counted, with ``--dry-run``); 1 a bad option; 2 a bad command line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dbos_django.engine import retention
from dbos_django.models import TERMINAL_STATUSES


class Command(BaseCommand):
    help = ("Delete finished workflows completed more than DAYS ago, with their steps, messages, events, "
            "streams and transaction outputs, in short batches.")  # fmt: skip

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=float, required=True, metavar="DAYS",
                            help="completed more than this many days ago (fractions allowed)")  # fmt: skip
        parser.add_argument("--status", action="append", type=str.upper, choices=TERMINAL_STATUSES,
                            help="only this final status (repeatable; default: every final status)")  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
        parser.add_argument("--batch-size", type=int, default=1000, metavar="N",
                            help="workflows deleted per transaction (default 1000)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = retention.prune(options["older_than"], statuses=options["status"] or TERMINAL_STATUSES,
                                     batch_size=options["batch_size"], dry_run=options["dry_run"])  # fmt: skip
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if report.dry_run:
            self.stdout.write(f"Would delete {report.workflows} workflow(s) and their rows:")
        else:
            self.stdout.write(f"Deleted {report.workflows} workflow(s) in {report.batches} batch(es):")
        for table, rows in sorted(report.rows.items()):
            self.stdout.write(f"  {table}: {rows}")
