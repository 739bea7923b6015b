"""What ``run_django.py`` and ``run_dbos.py`` share: arguments, timing, PostgreSQL helpers, JSON output.

Each runner process measures one framework on one database and one workload, and prints one
JSON object per measured run on stdout (``bench.py`` collects them).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

WORKLOADS: dict[str, str] = {
    "a": "3-step workflow, called directly",
    "b": "0-step workflow, called directly",
    "c": "start_workflow (3 steps) + get_result",
    "d": "workflow with 1 transaction (INSERT)",
}
DATABASES = ("postgres", "sqlite")

#: Server-level URL (any database of the server): PostgreSQL databases are created and dropped through it.
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Database names, one per framework, so neither sees the other's rows.
PG_NAMES = {"django": "bench_dbos_django", "dbos": "bench_dbos"}


@dataclass(frozen=True, slots=True)
class RunResult:
    """One measured run of ``n`` sequential workflows."""

    framework: str
    db: str
    workload: str
    n: int
    seconds: float
    workflows_per_second: float
    p50_ms: float
    p99_ms: float
    write_txns_per_workflow: float | None


def parse_args(framework: str) -> argparse.Namespace:
    """The command line every runner takes."""
    parser = argparse.ArgumentParser(description=f"Benchmark {framework}: one workload, one database.")
    parser.add_argument("--db", choices=DATABASES, required=True)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), required=True)
    parser.add_argument("--n", type=int, default=200, help="workflows per measured run")
    parser.add_argument("--warmup", type=int, default=20, help="workflows run before measuring")
    parser.add_argument("--runs", type=int, default=1, help="measured runs in this process")
    parser.add_argument("--name", help="PostgreSQL database name, or SQLite file path")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured runs (to stderr)")
    parser.add_argument("--wal", action="store_true",
                        help="SQLite: switch the file to WAL first (dbos_django's settings always do)")  # fmt: skip
    args = parser.parse_args()
    if args.name is None:
        args.name = PG_NAMES[framework] if args.db == "postgres" else os.path.abspath(f"bench-{framework}.sqlite3")
    return args


# Databases


def sqlite_wal(path: str) -> None:
    """Put a SQLite file in WAL journal mode (the mode is stored in the file and outlives the connection)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def pg_url(name: str) -> str:
    """The URL of database ``name`` on the benchmark server."""
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def pg_available() -> bool:
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def drop_pg_database(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_pg_database(name: str, *, fresh: bool) -> None:
    """Create the database if it is missing; ``fresh`` drops it first."""
    if fresh:
        drop_pg_database(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


class XidCounter:
    """Counts PostgreSQL transaction ids (write transactions) consumed between two reads.

    ``pg_current_xact_id()`` assigns an id to the probe's own transaction, so each read uses
    one id: ids consumed in between = after - before - 1. Ids are server-wide: anything else
    writing on the server meanwhile is counted too, hence the minimum over short chunks.
    """

    def __init__(self, name: str) -> None:
        self.conn = psycopg.connect(pg_url(name), autocommit=True)

    def read(self) -> int:
        row = self.conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        self.conn.close()


# Measuring


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The ``fraction`` percentile (0.5, 0.99...) of sorted values, interpolated between neighbours."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[round(fraction * 100) - 1]


def time_calls(call: Callable[[int], object], n: int, start: int = 0) -> tuple[list[float], float]:
    """Call ``call(i)`` for ``n`` values of i, one after another; return (latencies in ms, total seconds)."""
    latencies: list[float] = []
    began = time.perf_counter()
    for i in range(start, start + n):
        t0 = time.perf_counter_ns()
        call(i)
        latencies.append((time.perf_counter_ns() - t0) / 1e6)
    return latencies, time.perf_counter() - began


@contextmanager
def profiled(enabled: bool) -> Iterator[None]:
    """cProfile the block and print the top functions to stderr, if ``enabled``."""
    if not enabled:
        yield
        return
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)


#: Workflows between two xid reads: the xid count is the minimum over these chunks (see ``XidCounter``).
XID_CHUNK = 20


def _timed_run(call: Callable[[int], object], n: int, start: int,
               counter: XidCounter | None) -> tuple[list[float], float, float | None]:  # fmt: skip
    """Time ``n`` workflows in chunks; return (latencies in ms, seconds, fewest xids per workflow in a chunk).

    The xid reads between chunks are not timed. Other writers on the server can only add ids,
    so the chunk with the fewest is the workload's own count.
    """
    latencies: list[float] = []
    seconds, rates = 0.0, []
    for first in range(start, start + n, XID_CHUNK if counter else n):
        size = min(XID_CHUNK if counter else n, start + n - first)
        before = counter.read() if counter else 0
        chunk, elapsed = time_calls(call, size, first)
        if counter:
            rates.append((counter.read() - before - 1) / size)
        latencies += chunk
        seconds += elapsed
    return latencies, seconds, min(rates) if rates else None


def measure(framework: str, args: argparse.Namespace, call: Callable[[int], object], *,
            check: Callable[[int, object], None]) -> list[RunResult]:  # fmt: skip
    """Warm up, then time ``args.runs`` runs of ``args.n`` workflows; count PostgreSQL xids (not when profiling)."""
    for i in range(args.warmup):
        check(i, call(i))
    counter = XidCounter(args.name) if args.db == "postgres" and not args.profile else None
    results = []
    try:
        for run in range(args.runs):
            with profiled(args.profile):
                latencies, seconds, xids = _timed_run(call, args.n, args.warmup + run * args.n, counter)
            latencies.sort()
            results.append(RunResult(framework, args.db, args.workload, args.n, round(seconds, 4),
                                     round(args.n / seconds, 1), round(percentile(latencies, 0.5), 3),
                                     round(percentile(latencies, 0.99), 3),
                                     None if xids is None else round(xids, 2)))  # fmt: skip
    finally:
        if counter:
            counter.close()
    return results


def emit(results: list[RunResult]) -> None:
    """One JSON object per line on stdout."""
    for result in results:
        print(json.dumps(asdict(result)), flush=True)


def expect(expected: Callable[[int], Any]) -> Callable[[int, object], None]:
    """A check that a workflow returned ``expected(i)``: a benchmark of wrong answers is worthless."""

    def check(i: int, value: object) -> None:
        if value != expected(i):
            raise AssertionError(f"workflow {i} returned {value!r}, expected {expected(i)!r}")

    return check
