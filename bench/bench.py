"""Run dbos_django and DBOS side by side and print a markdown table of medians.

    python bench.py [--rounds 5] [--n 200] [--warmup 20] [--db postgres,sqlite] [--workload a,b,c,d]
                    [--only core|queue|messaging] [--queue-args "--rounds 3 --part throughput"]
                    [--messaging-args "--part latency"]

Three suites: the core benchmark (this file: sequential workflows, one process), then the queue
benchmarks (``queue_bench.py``: worker processes draining a queue, latency, memory; run as a
subprocess with ``--queue-args``), then the messaging benchmarks (``messaging_bench.py``: send → recv
latency across processes, recv throughput; ``--messaging-args``). ``--only`` runs one of them; the
other options are the core's.

Each (framework, database, workload) measurement is a fresh subprocess (``run_django.py`` or
``run_dbos.py``): DBOS is a process-wide singleton and Django settings are process-global.
Within a round the two frameworks run back to back, in alternating order, so that noise on a
shared machine hits both alike. The table gives medians over the rounds, and the speed-up is the
median of the per-round ratios. The report and the raw runs go to ``results/latest.md`` and
``results/latest.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import benchlib  # the script's directory is on sys.path
import psycopg

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
SCRIPTS = {"django": "run_django.py", "dbos": "run_dbos.py"}
#: The suites that run as subprocesses after the core one (PostgreSQL only): name -> script.
SUITES = {"queue": "queue_bench.py", "messaging": "messaging_bench.py"}
METRICS = ("workflows_per_second", "p50_ms", "p99_ms", "write_txns_per_workflow")
#: dbos_django must be at least this many times faster than DBOS on (a) on PostgreSQL, and never slower elsewhere.
TARGET_A_POSTGRES = 2.0


@dataclass(frozen=True, slots=True)
class Job:
    framework: str  # "django" or "dbos"
    db: str
    workload: str
    round: int


Key = tuple[str, str, str]  # (db, workload, framework)
Summary = dict[Key, dict[str, float | None]]
Ratios = dict[tuple[str, str], list[float]]  # (db, workload) -> dbos_django/DBOS throughput, one per round


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="measured runs per framework, database and workload")
    parser.add_argument("--n", type=int, default=200, help="workflows per run")
    parser.add_argument("--warmup", type=int, default=20, help="workflows before each measured run")
    parser.add_argument("--db", default=",".join(benchlib.DATABASES), help="comma-separated: postgres,sqlite")
    parser.add_argument("--workload", default=",".join(benchlib.WORKLOADS), help="comma-separated: a,b,c,d")
    parser.add_argument(
        "--dbos-sqlite-wal",
        action="store_true",
        help="also put DBOS's SQLite file in WAL mode (it uses SQLite's rollback journal by default)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "latest.md", help="where to write the table")
    parser.add_argument("--only", choices=("core", *SUITES),
                        help="run one suite (default: core, then queue, then messaging)")  # fmt: skip
    parser.add_argument("--queue-args", default="", help="options of queue_bench.py, as one string")
    parser.add_argument("--messaging-args", default="", help="options of messaging_bench.py, as one string")
    args = parser.parse_args()
    args.dbs = [d for d in args.db.split(",") if d]
    args.workloads = [w for w in args.workload.split(",") if w]
    unknown = set(args.dbs) - set(benchlib.DATABASES) | set(args.workloads) - set(benchlib.WORKLOADS)
    if unknown:
        parser.error(f"unknown database or workload: {', '.join(sorted(unknown))}")
    return args


def plan(rounds: int, dbs: list[str], workloads: list[str]) -> list[Job]:
    """Every job in running order: round by round, the two frameworks back to back, alternating who goes first."""
    jobs = []
    for r in range(rounds):
        order = ["django", "dbos"] if r % 2 == 0 else ["dbos", "django"]
        jobs += [Job(fw, db, w, r) for db in dbs for w in workloads for fw in order]
    return jobs


def database_name(job: Job, sqlite_dir: Path) -> str:
    if job.db == "postgres":
        return benchlib.PG_NAMES[job.framework]
    return str(sqlite_dir / f"bench-{job.framework}.sqlite3")


def run_job(job: Job, args: argparse.Namespace, sqlite_dir: Path) -> list[dict[str, Any]]:
    """Run one measurement in its own process; return its JSON results."""
    script = BENCH_DIR / SCRIPTS[job.framework]
    command = [sys.executable, str(script), "--db", job.db, "--workload", job.workload, "--n", str(args.n),
               "--warmup", str(args.warmup), "--name", database_name(job, sqlite_dir)]  # fmt: skip
    if args.dbos_sqlite_wal:
        command.append("--wal")
    done = subprocess.run(command, cwd=BENCH_DIR, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{' '.join(command)} failed with exit code {done.returncode}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def prepare_databases(dbs: list[str]) -> None:
    """Fresh PostgreSQL databases for both frameworks (SQLite files live in a fresh temp dir)."""
    if "postgres" in dbs:
        for name in benchlib.PG_NAMES.values():
            benchlib.create_pg_database(name, fresh=True)


def drop_databases(dbs: list[str]) -> None:
    if "postgres" in dbs:
        for name in benchlib.PG_NAMES.values():
            benchlib.drop_pg_database(name)


def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run every job, printing progress on stderr; return all results."""
    jobs = plan(args.rounds, args.dbs, args.workloads)
    results: list[dict[str, Any]] = []
    prepare_databases(args.dbs)
    try:
        with tempfile.TemporaryDirectory(prefix="dbos-bench-") as sqlite_dir:
            for i, job in enumerate(jobs, 1):
                found = [{**r, "round": job.round} for r in run_job(job, args, Path(sqlite_dir))]
                results += found
                line = ", ".join(f"{r['workflows_per_second']} wf/s" for r in found)
                print(f"[{i}/{len(jobs)}] {job.framework:6} {job.db:8} ({job.workload}): {line}", file=sys.stderr)
    finally:
        drop_databases(args.dbs)
    return results


def _framework(result: dict[str, Any]) -> str:
    return "django" if result["framework"] == "dbos_django" else "dbos"


def medians(results: list[dict[str, Any]]) -> Summary:
    """The median of every timing over the runs of each (db, workload, framework).

    Write transactions are the minimum instead: they are a count, fixed for a workload, that
    other writers on the shared server can only inflate.
    """
    grouped: dict[Key, list[dict[str, Any]]] = {}
    for r in results:
        grouped.setdefault((r["db"], r["workload"], _framework(r)), []).append(r)
    summary: Summary = {}
    for key, runs in grouped.items():
        summary[key] = {}
        for metric in METRICS:
            values = [r[metric] for r in runs if r[metric] is not None]
            pick = min if metric == "write_txns_per_workflow" else statistics.median
            summary[key][metric] = pick(values) if values else None
        summary[key]["runs"] = len(runs)
    return summary


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def paired_ratios(results: list[dict[str, Any]]) -> Ratios:
    """dbos_django's throughput over DBOS's, round by round: the two ran back to back, under the same load."""
    throughput = {(r["db"], r["workload"], r["round"], _framework(r)): r["workflows_per_second"] for r in results}
    ratios: Ratios = {}
    for (db, workload, rnd, framework), mine in sorted(throughput.items()):
        theirs = throughput.get((db, workload, rnd, "dbos"))
        if framework == "django" and theirs:
            ratios.setdefault((db, workload), []).append(mine / theirs)
    return ratios


def speedup(ratios: Ratios, db: str, workload: str) -> float | None:
    """The median of the per-round ratios (steadier than a ratio of medians on a noisy machine)."""
    values = ratios.get((db, workload))
    return statistics.median(values) if values else None


def table(summary: Summary, ratios: Ratios, dbs: list[str], workloads: list[str]) -> str:
    """The markdown table: one row per database and workload, the two frameworks side by side."""
    head = ("| Workload | DB | dbos_django wf/s | DBOS wf/s | speed-up | p50 ms dbos_django | p50 ms DBOS "
            "| p99 ms dbos_django | p99 ms DBOS | write txns/wf dbos_django | write txns/wf DBOS |")  # fmt: skip
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for db in dbs:
        for w in workloads:
            mine, theirs = summary.get((db, w, "django"), {}), summary.get((db, w, "dbos"), {})
            ratio = speedup(ratios, db, w)
            cells = [f"({w}) {benchlib.WORKLOADS[w]}", "PostgreSQL" if db == "postgres" else "SQLite",
                     _fmt(mine.get("workflows_per_second")), _fmt(theirs.get("workflows_per_second")),
                     "n/a" if ratio is None else f"{ratio:.2f}×",
                     _fmt(mine.get("p50_ms"), 2), _fmt(theirs.get("p50_ms"), 2),
                     _fmt(mine.get("p99_ms"), 2), _fmt(theirs.get("p99_ms"), 2),
                     _fmt(mine.get("write_txns_per_workflow"), 2), _fmt(theirs.get("write_txns_per_workflow"), 2)]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(ratios: Ratios, dbs: list[str], workloads: list[str]) -> list[str]:
    """How the speed-ups compare with the targets, one line each, with the per-round range."""
    lines = []
    for db in dbs:
        for w in workloads:
            ratio = speedup(ratios, db, w)
            if ratio is None:
                continue
            values = ratios[(db, w)]
            target = TARGET_A_POSTGRES if (db, w) == ("postgres", "a") else 1.0
            status = "met" if ratio >= target else "NOT MET"
            lines.append(f"- ({w}) on {db}: {ratio:.2f}× (rounds: {min(values):.2f}–{max(values):.2f}×; "
                         f"target ≥ {target:g}×): {status}")  # fmt: skip
    return lines


def _pg_info() -> str:
    try:
        with psycopg.connect(benchlib.PG_ADMIN_URL, connect_timeout=3) as conn:
            version = conn.execute("SHOW server_version").fetchone()
            sync = conn.execute("SHOW synchronous_commit").fetchone()
            fsync = conn.execute("SHOW fsync").fetchone()
    except psycopg.Error:
        return "not reachable"
    assert version and sync and fsync
    return f"{version[0]} (synchronous_commit={sync[0]}, fsync={fsync[0]})"


def _git(directory: Path, *args: str) -> str | None:
    done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def dbos_django_source() -> str:
    """Which dbos_django the runners import (``PYTHONPATH`` may point at another checkout), at which commit."""
    spec = importlib.util.find_spec("dbos_django")
    if spec is None or spec.origin is None:
        return "not installed"
    package = Path(spec.origin).parent
    commit = _git(package, "rev-parse", "--short", "HEAD")
    if commit is None:
        return f"{package} (not a git checkout)"
    dirty = _git(package, "status", "--porcelain", "--", ".")
    return f"{package} (git {commit}{', with uncommitted changes' if dirty else ''})"


def _command() -> str:
    """How to run this again."""
    args = shlex.join(sys.argv[1:])
    command = f'make bench ARGS="{args}"' if args else "make bench"
    pythonpath = os.environ.get("PYTHONPATH")
    return f"PYTHONPATH={pythonpath} {command}" if pythonpath else command


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def environment(args: argparse.Namespace, started: datetime, seconds: float, load_before: str) -> dict[str, str]:
    """Where and how the numbers were measured."""
    return {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command(),
        "machine": f"{os.cpu_count()} CPUs (shared, noisy), {platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "dbos_django": dbos_django_source(),
        "django": metadata.version("django"),
        "dbos": metadata.version("dbos"),
        "psycopg": metadata.version("psycopg"),
        "sqlalchemy": metadata.version("sqlalchemy"),
        "postgresql": _pg_info() if "postgres" in args.dbs else "not run",
        "sqlite": f"{sqlite3.sqlite_version} (dbos_django: WAL; DBOS: "
        + ("WAL, --dbos-sqlite-wal)" if args.dbos_sqlite_wal else "its default rollback journal)"),
        "runs": f"{args.rounds} rounds × {args.n} sequential workflows after {args.warmup} warm-up; medians "
        "of the rounds (speed-up: median of per-round ratios; write txns: minimum)",
        "duration": f"{seconds:.0f} s",
        "load average (1/5/15 min)": f"{load_before} before, {_load()} after",
    }


def report(args: argparse.Namespace, results: list[dict[str, Any]], env: dict[str, str]) -> str:
    summary, ratios = medians(results), paired_ratios(results)
    lines = ["# dbos_django vs DBOS: benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in env.items()]
    lines += ["", table(summary, ratios, args.dbs, args.workloads), "", "Targets:", ""]
    lines += verdict(ratios, args.dbs, args.workloads)
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    """Write atomically (a half-written results file is worse than the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main() -> None:
    args = parse_args()
    if args.only in (None, "core"):
        core(args)
    codes = [suite(name, args) for name in SUITES if args.only in (None, name)]
    sys.exit(max(codes, default=0))


def suite(name: str, args: argparse.Namespace) -> int:
    """Run the queue or the messaging suite in a subprocess; return its exit code."""
    if not benchlib.pg_available():
        print(f"PostgreSQL at {benchlib.PG_ADMIN_URL} is not reachable: skipping the {name} suite", file=sys.stderr)
        return 0
    options = shlex.split(getattr(args, f"{name}_args"))
    command = [sys.executable, str(BENCH_DIR / SUITES[name]), *options]
    env = {**os.environ, "BENCH_COMMAND": _command()}  # what the suite's report names as its command
    return subprocess.run(command, cwd=BENCH_DIR, env=env).returncode


def core(args: argparse.Namespace) -> None:
    """The core suite: sequential workflows in one process, both frameworks, every database and workload."""
    if "postgres" in args.dbs and not benchlib.pg_available():
        print(f"PostgreSQL at {benchlib.PG_ADMIN_URL} is not reachable: skipping it", file=sys.stderr)
        args.dbs.remove("postgres")
    started, t0, load_before = datetime.now(UTC), time.monotonic(), _load()
    results = run_all(args)
    env = environment(args, started, time.monotonic() - t0, load_before)
    text = report(args, results, env)
    write(args.out, text)
    write(args.out.with_suffix(".json"), json.dumps({"environment": env, "runs": results}, indent=1) + "\n")
    print(text)
    print(f"(written to {args.out})", file=sys.stderr)


if __name__ == "__main__":
    main()
