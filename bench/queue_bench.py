"""Queue benchmarks: dbos_django's ``dbos_worker`` vs DBOS 3.4 worker processes, on one PostgreSQL server.

    python queue_bench.py [--part throughput,latency,memory] [--rounds 3] [--n 2000] [--concurrency 16]

- throughput: ``--n`` 3-step workflows are enqueued first (by another process), then drained by one
  and by two worker processes; workflows/s from the first start to the last completion, read from
  the workflow rows (``started_at``/``completed_at``, epoch ms). Medians of ``--rounds`` rounds.
- latency: one worker idles; another process enqueues ``--latency-n`` workflows one at a time
  (about ``--spacing`` s apart) whose body returns ``time.time()``; latency = body start - enqueue.
- memory: a dbos_django worker (``--memory-concurrency``) drains ``--memory-n`` queued workflows; its
  RSS (``/proc/<pid>/status`` VmRSS) is sampled every 0.2 s.

Every run gets a fresh database: PostgreSQL databases are cloned from a migrated template
(``CREATE DATABASE ... TEMPLATE``), SQLite files are copied. The report goes to
``results/queue.md`` and every raw run to ``results/queue.json``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import benchlib
import psycopg
import queuelib

import bench  # the core benchmark driver: its environment helpers

BENCH_DIR = Path(__file__).resolve().parent
PARTS = ("throughput", "latency", "memory")
LABELS = {"django": "dbos_django", "dbos": "DBOS 3.4"}
RUN_TIMEOUT = 600.0
SAMPLE_SECONDS = 0.2
#: dbos_django must drain a queue at least this many times faster than DBOS.
TARGET_THROUGHPUT = 2.0
TARGET_P50_MS = 50.0
TARGET_RSS_MB = 200.0


@dataclass(frozen=True, slots=True)
class Config:
    """One way of running a framework's workers."""

    framework: str  # "django" or "dbos"
    db: str = "postgres"
    workers: int = 1
    polling: float = 1.0  # the queue's polling_interval_sec
    worker_concurrency: int | None = None  # DBOS: the queue's worker_concurrency

    def describe(self, concurrency: int) -> str:
        if self.framework == "django":
            return f"`dbos_worker --concurrency {concurrency}`, polling {self.polling:g} s"
        limit = f"worker_concurrency={self.worker_concurrency}" if self.worker_concurrency else "no worker_concurrency"
        return f"polling_interval_sec={self.polling:g}, {limit}"


@dataclass(slots=True)
class Sandbox:
    """Where a benchmark's databases and logs live; PostgreSQL templates are dropped at the end."""

    directory: Path
    templates: dict[tuple[str, str], str]  # (framework, db) -> template database name or file


# Databases


def _template_name(framework: str, db: str, directory: Path) -> str:
    if db == "postgres":
        return queuelib.PG_NAMES[framework] + "_tpl"
    return str(directory / f"template-{framework}.sqlite3")


def prepare(sandbox: Sandbox, framework: str, db: str) -> None:
    """Create and migrate the template database of a framework (once per benchmark)."""
    name = _template_name(framework, db, sandbox.directory)
    sandbox.templates[(framework, db)] = name  # dropped at the end, even if the setup fails
    if db == "postgres":
        benchlib.create_pg_database(name, fresh=True)
    script = "queue_django.py" if framework == "django" else "queue_dbos.py"
    run_script(sandbox, [script, "setup", "--db", db, "--name", name], f"setup-{framework}-{db}")


def fresh_database(sandbox: Sandbox, config: Config) -> str:
    """A new database for one run, a copy of the migrated template; return its name (or file)."""
    template = sandbox.templates[(config.framework, config.db)]
    if config.db == "postgres":
        name = queuelib.PG_NAMES[config.framework]
        benchlib.drop_pg_database(name)
        with psycopg.connect(benchlib.PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name
    name = str(sandbox.directory / f"run-{config.framework}.sqlite3")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(name + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, name)
    return name


def drop_databases(sandbox: Sandbox) -> None:
    for (framework, db), template in sandbox.templates.items():
        if db == "postgres":
            benchlib.drop_pg_database(template)
            benchlib.drop_pg_database(queuelib.PG_NAMES[framework])


_TIMES_SQL = {
    "django": "SELECT started_at, completed_at, executor_id, status FROM dbos_workflow_status WHERE queue_name = {}",
    "dbos": "SELECT started_at_epoch_ms, completed_at, executor_id, status FROM {schema}workflow_status "
    "WHERE queue_name = {}",
}


def workflow_rows(config: Config, name: str) -> list[tuple[int | None, int | None, str | None, str]]:
    """(started_at, completed_at, executor_id, status) of every workflow of the benchmark queue."""
    if config.db == "postgres":
        sql = _TIMES_SQL[config.framework].format("%s", schema="dbos.")
        with psycopg.connect(benchlib.pg_url(name)) as conn:
            return list(conn.execute(sql, (queuelib.QUEUE_NAME,)).fetchall())
    sql = _TIMES_SQL[config.framework].format("?", schema="")
    with closing(sqlite3.connect(name)) as conn:
        return list(conn.execute(sql, (queuelib.QUEUE_NAME,)).fetchall())


def committed(name: str) -> int:
    """Transactions committed in a PostgreSQL database so far (``pg_stat_database``; read-only ones too).

    The workers' sessions report their counts when they end, so read this once they have exited.
    """
    with psycopg.connect(benchlib.PG_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


# Processes


def run_script(sandbox: Sandbox, command: list[str], log: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a bench script to completion; return the JSON object it printed last (if any)."""
    with open(sandbox.directory / f"{log}.err", "w") as err:
        done = subprocess.run([sys.executable, *command], cwd=BENCH_DIR, stdout=subprocess.PIPE, stderr=err,
                              text=True, timeout=RUN_TIMEOUT, env=env)  # fmt: skip
    if done.returncode != 0:
        sys.stderr.write((sandbox.directory / f"{log}.err").read_text()[-4000:])
        raise SystemExit(f"{' '.join(command)} failed with exit code {done.returncode}")
    found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return found[-1] if found else {}


def django_env(config: Config, name: str) -> dict[str, str]:
    return {**os.environ, "BENCH_DB": config.db, "BENCH_DB_NAME": name, "BENCH_QUEUE_POLLING": str(config.polling)}


def worker_command(config: Config, name: str, index: int, concurrency: int, *, drain: bool) -> list[str]:
    """A worker process: ``manage.py dbos_worker`` for dbos_django, ``queue_dbos.py worker`` for DBOS."""
    if config.framework == "django":
        command = ["manage.py", "dbos_worker", "--queue", queuelib.QUEUE_NAME, "--concurrency", str(concurrency)]
        return command + (["--burst"] if drain else [])
    command = ["queue_dbos.py", "worker", "--db", config.db, "--name", name, "--polling", str(config.polling),
               "--index", str(index)]  # fmt: skip
    if config.worker_concurrency:
        command += ["--worker-concurrency", str(config.worker_concurrency)]
    return command + (["--until-drained"] if drain else [])


def enqueuer_command(config: Config, name: str, role: str, n: int) -> list[str]:
    script = "queue_django.py" if config.framework == "django" else "queue_dbos.py"
    command = [script, role, "--db", config.db, "--name", name, "--n", str(n), "--polling", str(config.polling)]
    if config.worker_concurrency:
        command += ["--worker-concurrency", str(config.worker_concurrency)]
    return command


@contextmanager
def workers(sandbox: Sandbox, config: Config, name: str, concurrency: int, *, drain: bool,
            count: int | None = None) -> Iterator[list[subprocess.Popen[str]]]:  # fmt: skip
    """Start the worker processes; at the end, stop (SIGTERM, then SIGKILL) those still running."""
    procs: list[subprocess.Popen[str]] = []
    try:
        for i in range(config.workers if count is None else count):
            log = open(sandbox.directory / f"worker-{config.framework}-{i}.err", "w")
            procs.append(subprocess.Popen([sys.executable, *worker_command(config, name, i, concurrency, drain=drain)],
                                          cwd=BENCH_DIR, env=django_env(config, name), stdout=subprocess.DEVNULL,
                                          stderr=log, text=True))  # fmt: skip
            log.close()
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_all(procs: list[subprocess.Popen[str]], sandbox: Sandbox, config: Config) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    for i, proc in enumerate(procs):
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        if code != 0:
            sys.stderr.write((sandbox.directory / f"worker-{config.framework}-{i}.err").read_text()[-4000:])
            raise SystemExit(f"worker {i} of {config} exited with code {code}")


# Throughput


def throughput(sandbox: Sandbox, config: Config, args: argparse.Namespace, rnd: int) -> dict[str, Any]:
    """Enqueue ``args.n`` workflows, then drain them with ``config.workers`` processes."""
    name = fresh_database(sandbox, config)
    enqueued = run_script(sandbox, enqueuer_command(config, name, "enqueue", args.n), f"enqueue-{config.framework}",
                          env=django_env(config, name))  # fmt: skip
    commits, began = committed(name), time.monotonic()
    with workers(sandbox, config, name, args.concurrency, drain=True) as procs:
        wait_all(procs, sandbox, config)
    wall, commits = time.monotonic() - began, committed(name) - commits
    rows = workflow_rows(config, name)
    done = [r for r in rows if r[3] == "SUCCESS"]
    if len(done) != args.n:
        raise SystemExit(f"{config}: {len(done)} of {args.n} workflows succeeded")
    first, last = min(int(r[0] or 0) for r in done), max(int(r[1] or 0) for r in done)
    per_worker = sorted((sum(1 for r in done if r[2] == e) for e in {r[2] for r in done}), reverse=True)
    return {"part": "throughput", "config": asdict(config), "round": rnd, "n": args.n,
            "concurrency": args.concurrency if config.framework == "django" else None,
            "workflows_per_second": round(args.n * 1000 / max(1, last - first), 1),
            "drain_seconds": round((last - first) / 1000, 3), "wall_seconds": round(wall, 3),
            "per_worker": per_worker, "enqueue_seconds": enqueued.get("enqueue_seconds"),
            "commits_per_workflow": round(commits / args.n, 2)}  # fmt: skip


def throughput_configs(args: argparse.Namespace) -> list[Config]:
    """dbos_django (its defaults); DBOS with its defaults, and with fast polling and a per-worker limit."""
    configs = []
    for workers_ in (1, 2):
        configs += [Config("django", workers=workers_), Config("dbos", workers=workers_, polling=1.0),
                    Config("dbos", workers=workers_, polling=0.01, worker_concurrency=args.concurrency)]  # fmt: skip
    return configs


# Latency


def latency(sandbox: Sandbox, config: Config, args: argparse.Namespace) -> dict[str, Any]:
    """One idle worker; enqueue start_time workflows one at a time from another process."""
    name = fresh_database(sandbox, config)
    command = enqueuer_command(config, name, "latency", args.latency_n) + ["--spacing", str(args.spacing)]
    with workers(sandbox, config, name, args.concurrency, drain=False, count=1):
        found = run_script(sandbox, command, f"latency-{config.framework}", env=django_env(config, name))
    values = sorted(found["latency_ms"])
    return {"part": "latency", "config": asdict(config), "n": len(values),
            "p50_ms": round(benchlib.percentile(values, 0.5), 2), "p99_ms": round(benchlib.percentile(values, 0.99), 2),
            "max_ms": round(values[-1], 2), "enqueue_p50_ms": round(statistics.median(found["enqueue_ms"]), 2),
            "latency_ms": found["latency_ms"]}  # fmt: skip


def latency_configs(args: argparse.Namespace) -> list[Config]:
    configs = [Config("django", "postgres"), Config("dbos", "postgres", polling=1.0),
               Config("dbos", "postgres", polling=0.01)]  # fmt: skip
    if "sqlite" in args.latency_dbs:
        configs += [Config("django", "sqlite", polling=1.0), Config("django", "sqlite", polling=0.01),
                    Config("dbos", "sqlite", polling=1.0), Config("dbos", "sqlite", polling=0.01)]  # fmt: skip
    return configs


# Memory


def rss_mb(pid: int) -> float | None:
    """The resident set size of a live process, in MB (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def sample_rss(proc: subprocess.Popen[str]) -> list[tuple[float, float]]:
    """(time.time(), RSS MB) every ``SAMPLE_SECONDS`` until the process exits."""
    samples = []
    deadline = time.monotonic() + RUN_TIMEOUT
    while proc.poll() is None and time.monotonic() < deadline:
        value = rss_mb(proc.pid)
        if value is not None:
            samples.append((time.time(), value))
        time.sleep(SAMPLE_SECONDS)
    return samples


def rss_at(samples: list[tuple[float, float]], completed_ms: list[int], count: int) -> float | None:
    """The RSS of the first sample taken once ``count`` workflows had completed."""
    if len(completed_ms) < count:
        return None
    when = completed_ms[count - 1] / 1000
    later = [rss for t, rss in samples if t >= when]
    return later[0] if later else None


def memory(sandbox: Sandbox, config: Config, args: argparse.Namespace) -> dict[str, Any]:
    """One worker drains ``args.memory_n`` queued workflows; its RSS is sampled meanwhile."""
    name = fresh_database(sandbox, config)
    run_script(sandbox, enqueuer_command(config, name, "enqueue", args.memory_n), f"enqueue-{config.framework}",
               env=django_env(config, name))  # fmt: skip
    with workers(sandbox, config, name, args.memory_concurrency, drain=True) as procs:
        samples = sample_rss(procs[0])
        wait_all(procs, sandbox, config)
    rows = workflow_rows(config, name)
    completed = sorted(int(r[1]) for r in rows if r[1] is not None)
    started = min(int(r[0]) for r in rows if r[0] is not None)
    rss = [v for _, v in samples]
    return {"part": "memory", "config": asdict(config), "n": args.memory_n, "concurrency": args.memory_concurrency,
            "completed": len(completed), "peak_mb": round(max(rss), 1), "first_done_mb": _round(rss_at(samples, completed, 1)),
            "at_1000_mb": _round(rss_at(samples, completed, 1000)), "end_mb": round(rss[-1], 1),
            "workflows_per_second": round(len(completed) * 1000 / max(1, completed[-1] - started), 1),
            "samples": [[round(t - samples[0][0], 2), round(v, 1),
                         bisect.bisect_right(completed, int(t * 1000))] for t, v in samples]}  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# Report


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def _group(runs: list[dict[str, Any]], part: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        if run["part"] == part:
            grouped.setdefault(json.dumps(run["config"], sort_keys=True), []).append(run)
    return grouped


def throughput_table(runs: list[dict[str, Any]], concurrency: int) -> list[str]:
    lines = ["| Framework | Configuration | Workers | wf/s (median) | rounds (min–max) | drain s | wall s | "
             "workflows per worker | commits/wf |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for group in _group(runs, "throughput").values():
        config, values = Config(**group[0]["config"]), [r["workflows_per_second"] for r in group]
        split = " / ".join(str(v) for v in group[len(group) // 2]["per_worker"])
        lines.append(f"| {LABELS[config.framework]} | {config.describe(concurrency)} | {config.workers} | "
                     f"{statistics.median(values):.1f} | {min(values):.1f}–{max(values):.1f} | "
                     f"{_median(group, 'drain_seconds'):.2f} | {_median(group, 'wall_seconds'):.2f} | {split} | "
                     f"{_median(group, 'commits_per_workflow'):.2f} |")  # fmt: skip
    return lines


def speedups(runs: list[dict[str, Any]], concurrency: int) -> list[str]:
    """dbos_django over each DBOS configuration with the same number of workers: median of per-round ratios."""
    rate = {(json.dumps(r["config"], sort_keys=True), r["round"]): r["workflows_per_second"]
            for r in runs if r["part"] == "throughput"}  # fmt: skip
    lines = []
    for group in _group(runs, "throughput").values():
        theirs = Config(**group[0]["config"])
        if theirs.framework != "dbos":
            continue
        mine = json.dumps(asdict(Config("django", workers=theirs.workers)), sort_keys=True)
        ratios = [rate[(mine, r["round"])] / r["workflows_per_second"] for r in group if (mine, r["round"]) in rate]
        if ratios:
            ratio = statistics.median(ratios)
            status = "met" if ratio >= TARGET_THROUGHPUT else "NOT MET"
            lines.append(f"- {theirs.workers} worker(s), vs DBOS {theirs.describe(concurrency)}: {ratio:.2f}× "
                         f"(rounds {min(ratios):.2f}–{max(ratios):.2f}×; target ≥ {TARGET_THROUGHPUT:g}×): {status}")  # fmt: skip
    return lines


def latency_table(runs: list[dict[str, Any]], concurrency: int) -> list[str]:
    lines = ["| Framework | DB | Configuration | samples | p50 ms | p99 ms | max ms | enqueue call p50 ms |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for group in _group(runs, "latency").values():
        config = Config(**group[0]["config"])
        values = sorted(v for r in group for v in r["latency_ms"])
        db = "PostgreSQL" if config.db == "postgres" else "SQLite"
        lines.append(f"| {LABELS[config.framework]} | {db} | {config.describe(concurrency)} | {len(values)} | "
                     f"{benchlib.percentile(values, 0.5):.1f} | {benchlib.percentile(values, 0.99):.1f} | "
                     f"{values[-1]:.1f} | {_median(group, 'enqueue_p50_ms'):.2f} |")  # fmt: skip
    return lines


def memory_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["| Framework | workflows | --concurrency | peak RSS MB | RSS at 1st completion MB | RSS after 1,000 done MB | "
             "RSS at end MB | wf/s |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for run in (r for r in runs if r["part"] == "memory"):
        lines.append(f"| {LABELS[run['config']['framework']]} | {run['n']} | {run['concurrency']} | {run['peak_mb']} | "
                     f"{run['first_done_mb']} | {run['at_1000_mb']} | {run['end_mb']} | {run['workflows_per_second']} |")  # fmt: skip
    return lines


def targets(runs: list[dict[str, Any]]) -> list[str]:
    lines = []
    for group in _group(runs, "latency").values():
        config = Config(**group[0]["config"])
        if config.framework == "django" and config.db == "postgres":
            p50 = benchlib.percentile(sorted(v for r in group for v in r["latency_ms"]), 0.5)
            lines.append(f"- enqueue-to-start p50 on PostgreSQL: {p50:.1f} ms (target < {TARGET_P50_MS:g} ms): "
                         + ("met" if p50 < TARGET_P50_MS else "NOT MET"))  # fmt: skip
    for run in (r for r in runs if r["part"] == "memory" and r["config"]["framework"] == "django"):
        flat = run["at_1000_mb"] is not None and run["end_mb"] <= run["at_1000_mb"] * 1.1
        lines.append(f"- worker peak RSS: {run['peak_mb']} MB (target < {TARGET_RSS_MB:g} MB, flat): "
                     + ("met" if run["peak_mb"] < TARGET_RSS_MB and flat else "NOT MET"))  # fmt: skip
    return lines


def command_line() -> str:
    """How to run this again (``bench.py`` says how it was called, when it runs this)."""
    if "BENCH_COMMAND" in os.environ:
        return os.environ["BENCH_COMMAND"]
    args, pythonpath = shlex.join(sys.argv[1:]), os.environ.get("PYTHONPATH")
    command = f'make bench-queue ARGS="{args}"' if args else "make bench-queue"
    return f"PYTHONPATH={pythonpath} {command}" if pythonpath else command


def environment(args: argparse.Namespace, started: datetime, seconds: float, load_before: str) -> dict[str, str]:
    return {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line(),
        "machine": f"{os.cpu_count()} CPUs (shared, noisy)",
        "python": sys.version.split()[0],
        "dbos_django": bench.dbos_django_source(),
        "django": metadata.version("django"),
        "dbos": metadata.version("dbos"),
        "postgresql": bench._pg_info(),
        "parts": f"{', '.join(args.parts)}; throughput: {args.rounds} rounds × {args.n} workflows; latency: "
        f"{args.latency_n} samples, {args.spacing} s apart on average; memory: {args.memory_n} workflows",
        "duration": f"{seconds:.0f} s",
        "load average (1/5/15 min)": f"{load_before} before, {bench._load()} after",
    }


def report(args: argparse.Namespace, runs: list[dict[str, Any]], env: dict[str, str]) -> str:
    lines = ["# dbos_django vs DBOS: queue benchmarks", ""] + [f"- {k}: {v}" for k, v in env.items()]
    if "throughput" in args.parts:
        lines += ["", "## Throughput (PostgreSQL)", "", *throughput_table(runs, args.concurrency), "",
                  *speedups(runs, args.concurrency)]  # fmt: skip
    if "latency" in args.parts:
        lines += ["", "## Enqueue-to-start latency (idle worker)", "", *latency_table(runs, args.concurrency)]
    if "memory" in args.parts:
        lines += ["", "## Worker memory (PostgreSQL)", "", *memory_table(runs)]
    lines += ["", "Targets:", "", *targets(runs)]
    return "\n".join(lines) + "\n"


# Main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", default=",".join(PARTS), help="comma-separated: throughput,latency,memory")
    parser.add_argument("--rounds", type=int, default=3, help="throughput: rounds of every configuration")
    parser.add_argument("--n", type=int, default=2000, help="throughput: workflows per run")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="dbos_django: --concurrency of each worker; DBOS: worker_concurrency of the fast-polling runs")  # fmt: skip
    parser.add_argument("--latency-n", type=int, default=200, help="latency: samples per configuration")
    parser.add_argument("--spacing", type=float, default=0.05, help="latency: mean seconds between two enqueues")
    parser.add_argument("--latency-db", default="postgres,sqlite", help="latency: postgres, or postgres,sqlite")
    parser.add_argument("--memory-n", type=int, default=10_000, help="memory: workflows queued")
    parser.add_argument("--memory-concurrency", type=int, default=8, help="memory: the worker's --concurrency")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "queue.md")
    args = parser.parse_args()
    args.parts = [p for p in args.part.split(",") if p]
    args.latency_dbs = [d for d in args.latency_db.split(",") if d]
    if set(args.parts) - set(PARTS):
        parser.error(f"unknown part: {', '.join(sorted(set(args.parts) - set(PARTS)))}")
    return args


def plan(args: argparse.Namespace) -> list[tuple[str, Config, int]]:
    """Every run in order: throughput round by round (the order of configurations reversed every other
    round, so that a drift in the machine's load hits both frameworks), then latency, then memory."""
    jobs: list[tuple[str, Config, int]] = []
    if "throughput" in args.parts:
        configs = throughput_configs(args)
        for r in range(args.rounds):
            jobs += [("throughput", c, r) for c in (configs if r % 2 == 0 else configs[::-1])]
    if "latency" in args.parts:
        jobs += [("latency", c, 0) for c in latency_configs(args)]
    if "memory" in args.parts:
        jobs.append(("memory", Config("django"), 0))
    return jobs


def summary(run: dict[str, Any]) -> str:
    if run["part"] == "throughput":
        return f"{run['workflows_per_second']} wf/s, per worker {run['per_worker']}"
    if run["part"] == "latency":
        return f"p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms"
    return f"peak {run['peak_mb']} MB, after 1,000 {run['at_1000_mb']} MB, end {run['end_mb']} MB"


def run_all(args: argparse.Namespace, sandbox: Sandbox) -> list[dict[str, Any]]:
    jobs = plan(args)
    needed = {(c.framework, c.db) for _, c, _ in jobs}
    for framework, db in sorted(needed):
        prepare(sandbox, framework, db)
    runs = []
    for i, (part, config, rnd) in enumerate(jobs, 1):
        if part == "throughput":
            run = throughput(sandbox, config, args, rnd)
        else:
            run = (latency if part == "latency" else memory)(sandbox, config, args)
        runs.append(run)
        print(f"[{i}/{len(jobs)}] {part:10} {LABELS[config.framework]:11} {config.db:8} workers={config.workers} "
              f"polling={config.polling:g}: {summary(run)}", file=sys.stderr)  # fmt: skip
    return runs


def main() -> None:
    args = parse_args()
    if not benchlib.pg_available():
        raise SystemExit(f"PostgreSQL at {benchlib.PG_ADMIN_URL} is not reachable: the queue benchmarks need it")
    started, t0, load_before = datetime.now(UTC), time.monotonic(), bench._load()
    with tempfile.TemporaryDirectory(prefix="dbos-queue-bench-") as directory:
        sandbox = Sandbox(Path(directory), {})
        try:
            runs = run_all(args, sandbox)
        finally:
            drop_databases(sandbox)
    env = environment(args, started, time.monotonic() - t0, load_before)
    text = report(args, runs, env)
    bench.write(args.out, text)
    bench.write(args.out.with_suffix(".json"), json.dumps({"environment": env, "runs": runs}, indent=1) + "\n")
    print(text)
    print(f"(written to {args.out})", file=sys.stderr)


if __name__ == "__main__":
    main()
