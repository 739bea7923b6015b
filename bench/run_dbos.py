"""Benchmark DBOS Transact: ``run_dbos.py --db postgres|sqlite --workload a|b|c|d --n N``.

Prints one JSON object per measured run. DBOS creates and migrates its system database at
launch. DBOS 3.x has no ``@DBOS.transaction`` (the application database was removed in 3.0):
workload (d) uses its replacement, a ``SQLAlchemyDatasource`` transaction on the same database.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from typing import Any

import benchlib  # the script's directory is on sys.path

Workload = Callable[[int], object]
TABLE = "bench_row"


def database_url(args: argparse.Namespace) -> str:
    return benchlib.pg_url(args.name) if args.db == "postgres" else f"sqlite:///{args.name}"


def create_table(datasource: Any, db: str) -> None:
    """The table workload (d) inserts into, shaped like the Django model's."""
    import sqlalchemy as sa

    key = "BIGSERIAL PRIMARY KEY" if db == "postgres" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    with datasource.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE IF NOT EXISTS {TABLE} (id {key}, payload TEXT NOT NULL)"))


def build_workloads(url: str, db: str) -> dict[str, Workload]:
    """The four workloads, registered before ``DBOS.launch()``."""
    import sqlalchemy as sa
    from dbos import DBOS, SQLAlchemyDatasource

    datasource = SQLAlchemyDatasource.create(url)
    create_table(datasource, db)
    insert_sql = sa.text(f"INSERT INTO {TABLE} (payload) VALUES (:payload) RETURNING id")

    @DBOS.step()
    def inc(x: int) -> int:
        return x + 1

    @DBOS.workflow()
    def three_steps(x: int) -> int:
        return inc(inc(inc(x)))

    @DBOS.workflow()
    def no_steps(x: int) -> int:
        return x

    @datasource.transaction()
    def insert_row(x: int) -> int:
        return int(datasource.sql_session().execute(insert_sql, {"payload": f"row {x}"}).scalar_one())

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
    args = benchlib.parse_args("dbos")
    if args.db == "postgres":
        benchlib.create_pg_database(args.name, fresh=False)
    elif args.wal:
        benchlib.sqlite_wal(args.name)
    from dbos import DBOS, DBOSConfig

    url = database_url(args)
    config: DBOSConfig = {"name": "bench", "system_database_url": url, "log_level": "WARNING"}
    DBOS(config=config)
    call = build_workloads(url, args.db)[args.workload]
    DBOS.launch()
    logging.getLogger("dbos").setLevel(logging.WARNING)
    try:
        results = benchlib.measure("dbos", args, call, check=benchlib.expect(EXPECTED[args.workload]))
    finally:
        DBOS.destroy()
    benchlib.emit(results)


if __name__ == "__main__":
    main()
