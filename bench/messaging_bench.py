"""Messaging benchmarks: dbos_django vs DBOS 3.4, ``send`` → ``recv``, on one PostgreSQL server.

    python messaging_bench.py [--part latency,throughput] [--rounds 5] [--n 500] [--latency-rounds 3] [--latency-n 200]
                              [--latency-idle 0]

- latency: a worker process runs workflows that wait in ``recv`` (dbos_django: ``manage.py dbos_worker``;
  DBOS: a launched process serving a queue); a second process starts them one at a time through the
  queue, waits until the workflow sleeps in ``recv`` (its timeout checkpoint is written, plus 10–30 ms),
  then sends it a message. The workflow returns ``time.time()`` taken when ``recv`` returned; latency =
  that − ``time.time()`` before the send call. ``--latency-rounds`` runs of ``--latency-n`` messages.
  ``--latency-idle K`` first starts K workflows that wait in ``recv`` on another topic in the same
  worker during the whole run (dbos_django's worker then gets K + 64 threads).
- throughput: one launched process; for i < ``--n``: start workflow ``receive_one(i)`` (it calls
  ``recv``) and send it ``i``; then wait for every result. Workflows/s of the whole batch, after a
  warm-up batch of ``--warmup``. ``--rounds`` runs per framework.

Every run gets a fresh database, cloned from a migrated template (``CREATE DATABASE ... TEMPLATE``).
Within a round the two frameworks run back to back, the order alternating between rounds. The
report goes to ``results/messaging.md`` and every raw run to ``results/messaging.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import benchlib
import messaginglib
import psycopg

import bench  # the core benchmark driver: its environment helpers

BENCH_DIR = Path(__file__).resolve().parent
PARTS = ("latency", "throughput")
FRAMEWORKS = ("django", "dbos")
LABELS = {"django": "dbos_django", "dbos": "DBOS 3.4"}
SCRIPTS = {"django": "messaging_django.py", "dbos": "messaging_dbos.py"}
RUN_TIMEOUT = 600.0
#: DBOS's queue polling in the latency part: only how soon a receiving workflow starts (not measured).
DBOS_QUEUE_POLLING = 0.05
DJANGO_THREADS = 64  # dbos_django's default MAX_THREADS
TARGET_P50_MS = 20.0
TARGET_THROUGHPUT = 2.0


# Databases


def _template(framework: str) -> str:
    return messaginglib.PG_NAMES[framework] + "_tpl"


def prepare(directory: Path) -> None:
    """Create and migrate one template database per framework."""
    for framework in FRAMEWORKS:
        benchlib.create_pg_database(_template(framework), fresh=True)
        run_script(directory, [SCRIPTS[framework], "setup", "--name", _template(framework)], f"setup-{framework}")


def fresh_database(framework: str) -> str:
    """A new database for one run, a copy of the framework's migrated template; return its name."""
    name = messaginglib.PG_NAMES[framework]
    benchlib.drop_pg_database(name)
    with psycopg.connect(benchlib.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_template(framework)}"')
    return name


def drop_databases() -> None:
    for framework in FRAMEWORKS:
        benchlib.drop_pg_database(messaginglib.PG_NAMES[framework])
        benchlib.drop_pg_database(_template(framework))


# Processes


def run_script(directory: Path, command: list[str], log: str) -> dict[str, Any]:
    """Run a bench script to completion; return the JSON object it printed last (if any)."""
    with open(directory / f"{log}.err", "w") as err:
        done = subprocess.run([sys.executable, *command], cwd=BENCH_DIR, stdout=subprocess.PIPE, stderr=err,
                              text=True, timeout=RUN_TIMEOUT)  # fmt: skip
    if done.returncode != 0:
        sys.stderr.write((directory / f"{log}.err").read_text()[-4000:])
        raise SystemExit(f"{' '.join(command)} failed with exit code {done.returncode}")
    found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return found[-1] if found else {}


def worker_command(framework: str, name: str, idle: int) -> list[str]:
    """dbos_django: ``dbos_worker`` with its default 64 threads (more if ``idle`` workflows are to wait as well)."""
    if framework == "django":
        threads = ["--concurrency", str(idle + DJANGO_THREADS)] if idle else []
        return ["manage.py", "dbos_worker", "--queue", messaginglib.QUEUE_NAME, *threads]
    return [SCRIPTS["dbos"], "worker", "--name", name, "--polling", str(DBOS_QUEUE_POLLING)]


@contextmanager
def worker(directory: Path, framework: str, name: str, idle: int) -> Iterator[subprocess.Popen[str]]:
    """The receiving worker process; stopped (SIGTERM, then SIGKILL) at the end."""
    env = {**os.environ, "BENCH_DB": "postgres", "BENCH_DB_NAME": name, "DJANGO_SETTINGS_MODULE": "messaging_settings"}
    with open(directory / f"worker-{framework}.err", "w") as log:
        proc = subprocess.Popen([sys.executable, *worker_command(framework, name, idle)], cwd=BENCH_DIR, env=env,
                                stdout=subprocess.DEVNULL, stderr=log, text=True)  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# Runs


def latency(directory: Path, framework: str, args: argparse.Namespace, rnd: int) -> dict[str, Any]:
    """One worker waits; another process sends ``args.latency_n`` messages, one at a time."""
    name = fresh_database(framework)
    command = [SCRIPTS[framework], "latency", "--name", name, "--n", str(args.latency_n), "--warmup", "5",
               "--polling", str(DBOS_QUEUE_POLLING), "--idle", str(args.latency_idle)]  # fmt: skip
    with worker(directory, framework, name, args.latency_idle) as proc:
        found = run_script(directory, command, f"latency-{framework}")
        if proc.poll() is not None:
            raise SystemExit(f"the {framework} worker exited early (code {proc.returncode})")
    values = sorted(found["latency_ms"])
    return {"part": "latency", "framework": framework, "round": rnd, "n": len(values), "idle": args.latency_idle,
            "p50_ms": round(benchlib.percentile(values, 0.5), 2), "p99_ms": round(benchlib.percentile(values, 0.99), 2),
            "max_ms": round(values[-1], 2), "send_p50_ms": round(statistics.median(found["send_ms"]), 2),
            "latency_ms": found["latency_ms"]}  # fmt: skip


def throughput(directory: Path, framework: str, args: argparse.Namespace, rnd: int) -> dict[str, Any]:
    """One process starts ``args.n`` workflows, sending each a message, and awaits them."""
    name = fresh_database(framework)
    command = [SCRIPTS[framework], "throughput", "--name", name, "--n", str(args.n), "--warmup", str(args.warmup)]
    found = run_script(directory, command, f"throughput-{framework}")
    return {"part": "throughput", "framework": framework, "round": rnd, **found}


def plan(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    """(part, framework, round) in running order: the two frameworks back to back, alternating who goes first."""
    jobs = []
    for part, rounds in (("throughput", args.rounds), ("latency", args.latency_rounds)):
        if part in args.parts:
            for r in range(rounds):
                jobs += [(part, fw, r) for fw in (FRAMEWORKS if r % 2 == 0 else FRAMEWORKS[::-1])]
    return jobs


def summary(run: dict[str, Any]) -> str:
    if run["part"] == "throughput":
        return f"{run['workflows_per_second']} wf/s, {run['write_txns_per_workflow']} write txns/wf"
    return f"p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, max {run['max_ms']} ms"


def run_all(args: argparse.Namespace, directory: Path) -> list[dict[str, Any]]:
    prepare(directory)
    runs = []
    jobs = plan(args)
    for i, (part, framework, rnd) in enumerate(jobs, 1):
        began = time.monotonic()
        run = (latency if part == "latency" else throughput)(directory, framework, args, rnd)
        runs.append({**run, "wall_seconds": round(time.monotonic() - began, 1)})
        print(f"[{i}/{len(jobs)}] {part:10} {LABELS[framework]:11}: {summary(run)} ({runs[-1]['wall_seconds']} s)",
              file=sys.stderr)  # fmt: skip
    return runs


# Report


def _of(runs: list[dict[str, Any]], part: str, framework: str) -> list[dict[str, Any]]:
    return [r for r in runs if r["part"] == part and r["framework"] == framework]


def _range(values: list[float], digits: int = 1) -> str:
    return f"{min(values):.{digits}f}–{max(values):.{digits}f}"


def configuration(framework: str, idle: int) -> str:
    """How the receiving worker ran."""
    if framework == "django":
        threads = f"--concurrency {idle + DJANGO_THREADS}" if idle else f"default {DJANGO_THREADS} threads"
        return f"`dbos_worker` ({threads}; LISTEN/NOTIFY wakes a waiting recv)"
    return "DBOS defaults: use_listen_notify=True, notification_listener_polling_interval_sec=1.0"


def latency_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["| Framework | Configuration | other waiting workflows | messages | p50 ms | p99 ms | p50 per run "
             "| p99 per run | max ms | send call p50 ms |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for framework in FRAMEWORKS:
        group = _of(runs, "latency", framework)
        if not group:
            continue
        p50s, p99s = [r["p50_ms"] for r in group], [r["p99_ms"] for r in group]
        lines.append(f"| {LABELS[framework]} | {configuration(framework, group[0]['idle'])} | {group[0]['idle']} | "
                     f"{len(group)} × {group[0]['n']} | "
                     f"{statistics.median(p50s):.1f} | {statistics.median(p99s):.1f} | {_range(p50s)} | "
                     f"{_range(p99s)} | {max(r['max_ms'] for r in group):.1f} | "
                     f"{statistics.median(r['send_p50_ms'] for r in group):.2f} |")  # fmt: skip
    return lines


def ratios(runs: list[dict[str, Any]]) -> list[float]:
    """dbos_django's throughput over DBOS's, round by round (the two ran back to back)."""
    theirs = {r["round"]: r["workflows_per_second"] for r in _of(runs, "throughput", "dbos")}
    return [r["workflows_per_second"] / theirs[r["round"]] for r in _of(runs, "throughput", "django")
            if r["round"] in theirs]  # fmt: skip


def throughput_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["| Framework | workflows | wf/s (median) | rounds (min–max) | seconds (median) | write txns/wf (min) "
             "| speed-up |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    found = ratios(runs)
    for framework in FRAMEWORKS:
        group = _of(runs, "throughput", framework)
        if not group:
            continue
        rates = [r["workflows_per_second"] for r in group]
        mine = framework == "django" and found
        speedup = f"{statistics.median(found):.2f}× (rounds {_range(found, 2)}×)" if mine else ""
        lines.append(f"| {LABELS[framework]} | {group[0]['n']} | {statistics.median(rates):.1f} | {_range(rates)} | "
                     f"{statistics.median(r['seconds'] for r in group):.2f} | "
                     f"{min(r['write_txns_per_workflow'] for r in group):.2f} | {speedup} |")  # fmt: skip
    return lines


def targets(runs: list[dict[str, Any]]) -> list[str]:
    lines = []
    group = _of(runs, "latency", "django")
    if group:
        p50 = statistics.median(r["p50_ms"] for r in group)
        lines.append(f"- send → recv p50: {p50:.1f} ms (target < {TARGET_P50_MS:g} ms): "
                     + ("met" if p50 < TARGET_P50_MS else "NOT MET"))  # fmt: skip
    found = ratios(runs)
    if found:
        ratio = statistics.median(found)
        lines.append(f"- recv throughput: {ratio:.2f}× DBOS (target ≥ {TARGET_THROUGHPUT:g}×): "
                     + ("met" if ratio >= TARGET_THROUGHPUT else "NOT MET"))  # fmt: skip
    return lines


def command_line() -> str:
    """How to run this again (``bench.py`` says how it was called, when it runs this)."""
    if "BENCH_COMMAND" in os.environ:
        return os.environ["BENCH_COMMAND"]
    args, pythonpath = shlex.join(sys.argv[1:]), os.environ.get("PYTHONPATH")
    command = f'make bench-messaging ARGS="{args}"' if args else "make bench-messaging"
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
        "parts": f"{', '.join(args.parts)}; throughput: {args.rounds} rounds × {args.n} workflows after "
        f"{args.warmup} warm-up; latency: {args.latency_rounds} rounds × {args.latency_n} messages after 5 warm-up, "
        f"{args.latency_idle} other workflows waiting",
        "duration": f"{seconds:.0f} s",
        "load average (1/5/15 min)": f"{load_before} before, {bench._load()} after",
    }


def report(args: argparse.Namespace, runs: list[dict[str, Any]], env: dict[str, str]) -> str:
    lines = ["# dbos_django vs DBOS: messaging benchmarks", ""] + [f"- {k}: {v}" for k, v in env.items()]
    if "latency" in args.parts:
        lines += ["", "## send → recv latency across two processes (PostgreSQL)", "", *latency_table(runs)]
    if "throughput" in args.parts:
        lines += ["", "## Throughput: start a workflow, send it a message, it receives it (PostgreSQL)", "",
                  *throughput_table(runs)]  # fmt: skip
    lines += ["", "Targets:", "", *targets(runs)]
    return "\n".join(lines) + "\n"


# Main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", default=",".join(PARTS), help="comma-separated: latency,throughput")
    parser.add_argument("--rounds", type=int, default=5, help="throughput: runs per framework")
    parser.add_argument("--n", type=int, default=500, help="throughput: workflows per run")
    parser.add_argument("--warmup", type=int, default=10, help="throughput: workflows of the warm-up batch")
    parser.add_argument("--latency-rounds", type=int, default=3, help="latency: runs per framework")
    parser.add_argument("--latency-n", type=int, default=200, help="latency: messages per run")
    parser.add_argument("--latency-idle", type=int, default=0,
                        help="latency: other workflows waiting in recv in the worker meanwhile (0: none)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "messaging.md")
    args = parser.parse_args()
    args.parts = [p for p in args.part.split(",") if p]
    if set(args.parts) - set(PARTS):
        parser.error(f"unknown part: {', '.join(sorted(set(args.parts) - set(PARTS)))}")
    return args


def main() -> None:
    args = parse_args()
    if not benchlib.pg_available():
        raise SystemExit(f"PostgreSQL at {benchlib.PG_ADMIN_URL} is not reachable: the messaging benchmarks need it")
    started, t0, load_before = datetime.now(UTC), time.monotonic(), bench._load()
    with tempfile.TemporaryDirectory(prefix="dbos-messaging-bench-") as directory:
        try:
            runs = run_all(args, Path(directory))
        finally:
            drop_databases()
    env = environment(args, started, time.monotonic() - t0, load_before)
    text = report(args, runs, env)
    bench.write(args.out, text)
    bench.write(args.out.with_suffix(".json"), json.dumps({"environment": env, "runs": runs}, indent=1) + "\n")
    print(text)
    print(f"(written to {args.out})", file=sys.stderr)


if __name__ == "__main__":
    main()
