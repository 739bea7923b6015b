"""Benchmark dbos_django: ``run_django.py --db postgres|sqlite --workload a|b|c|d --n N``.

Prints one JSON object per measured run. The database (a PostgreSQL database or a SQLite file)
is created and migrated if needed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import benchlib  # the script's directory is on sys.path

Workload = Callable[[int], object]


def setup_django(args: argparse.Namespace) -> None:
    """Configure Django on the benchmark database and migrate it."""
    os.environ["BENCH_DB"] = args.db
    os.environ["BENCH_DB_NAME"] = args.name
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    if args.db == "postgres":
        benchlib.create_pg_database(args.name, fresh=False)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)


def build_workloads() -> dict[str, Workload]:
    """The four workloads; defined after ``django.setup()`` because the decorators need the models."""
    from benchapp.models import BenchRow

    from dbos_django import DBOS

    @DBOS.step()
    def inc(x: int) -> int:
        return x + 1

    @DBOS.workflow()
    def three_steps(x: int) -> int:
        return inc(inc(inc(x)))

    @DBOS.workflow()
    def no_steps(x: int) -> int:
        return x

    @DBOS.transaction()
    def insert_row(x: int) -> int:
        return BenchRow.objects.create(payload=f"row {x}").pk

    @DBOS.workflow()
    def one_transaction(x: int) -> int:
        insert_row(x)
        return x

    return {
        "a": three_steps,
        "b": no_steps,
        "c": lambda i: DBOS.start_workflow(three_steps, i).get_result(),
        "d": one_transaction,
    }


EXPECTED: dict[str, Callable[[int], int]] = {"a": lambda i: i + 3, "b": lambda i: i, "c": lambda i: i + 3,
                                             "d": lambda i: i}  # fmt: skip


def main() -> None:
    args = benchlib.parse_args("django")
    setup_django(args)
    from dbos_django import DBOS

    call = build_workloads()[args.workload]
    DBOS.launch()
    try:
        results = benchlib.measure("dbos_django", args, call, check=benchlib.expect(EXPECTED[args.workload]))
    finally:
        DBOS.destroy()
    benchlib.emit(results)


if __name__ == "__main__":
    main()
