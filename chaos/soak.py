"""The chaos soak: orders run on three ``dbos_worker`` processes while workers are SIGKILLed and PostgreSQL restarts.

Run it through ``chaos/run`` (``make chaos``), whose trap starts PostgreSQL again however this ends.
The soak creates its own database, starts the workers, enqueues orders (keeping a bounded backlog),
sends their payments from outside (half at once, half when the order says it waits for one), and
meanwhile kills a random worker every few seconds (restarting it, half the time under the same
executor id) and stops PostgreSQL abruptly now and then. Once it has done the faults asked for, it
pauses the cron schedule, lets the work drain, stops the workers and checks every invariant
(``checks.py``). Exit code 1 on any violation.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHORT = {"workflows": 500, "kills": 5, "pg_restarts": 1, "pg_restart_every": 10.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    default_cluster = f"{sorted(os.listdir('/etc/postgresql'))[0]}/main" if os.path.isdir("/etc/postgresql") else None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=20_000, help="orders to run (default 20000)")
    parser.add_argument("--kills", type=int, default=50, help="at least this many worker SIGKILLs (default 50)")
    parser.add_argument("--pg-restarts", type=int, default=5, help="at least this many PostgreSQL restarts (default 5)")
    parser.add_argument("--short", action="store_true",
                        help="the CI size: 500 orders, 5 kills, 1 restart (explicit sizes still win)")
    parser.add_argument("--workers", type=int, default=3, help="dbos_worker processes (default 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument("--queue-concurrency", type=int, default=16,
                        help="the orders queue's global limit (default 16)")
    parser.add_argument("--doomed-every", type=int, default=50, help="every Nth order is doomed to fail (default 50)")
    parser.add_argument("--backlog", type=int, default=200, help="most orders waiting or running at once (default 200)")
    parser.add_argument("--kill-every", type=float, nargs=2, default=(2.0, 5.0), metavar=("MIN", "MAX"),
                        help="seconds between two kills, drawn uniformly (default 2 5)")
    parser.add_argument("--pg-restart-every", type=float, default=40.0, help="seconds between restarts (default 40)")
    parser.add_argument("--pg-down", type=float, nargs=2, default=(1.0, 4.0), metavar=("MIN", "MAX"),
                        help="seconds PostgreSQL stays down, drawn uniformly (default 1 4)")
    parser.add_argument("--drain-timeout", type=float, default=180.0,
                        help="after the faults, seconds the work may take to finish before it counts as stuck")
    parser.add_argument("--pg-cluster", default=default_cluster, metavar="VERSION/NAME",
                        help=f"the cluster to restart with pg_ctlcluster (default {default_cluster})")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL",
                                                                 "postgres://postgres@127.0.0.1:5432/postgres"),
                        help="a database of that cluster to connect to (default $DATABASE_URL or local postgres)")
    parser.add_argument("--database-name", default="dbos_chaos", help="the database the soak creates and drops")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--log-dir", type=Path, help="where the workers' logs go (default: a new temporary folder)")
    parser.add_argument("--seed", type=int, help="seed of the fault schedule (default: random, printed)")
    args = parser.parse_args(argv)
    for key, value in SHORT.items():
        if args.short and parser.get_default(key) == getattr(args, key):
            setattr(args, key, value)
    if args.pg_cluster is None or "/" not in args.pg_cluster:
        parser.error("--pg-cluster VERSION/NAME is needed (no /etc/postgresql here)")
    return args


# PostgreSQL
@dataclass(frozen=True, slots=True)
class Cluster:
    """The PostgreSQL cluster the soak stops and starts (``pg_ctlcluster``)."""

    version: str
    name: str

    def _ctl(self, *action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, *action],
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    def stop_abruptly(self) -> None:
        """``-m immediate``: no checkpoint, every connection cut, as in a crash."""
        done = self._ctl("stop", "-m", "immediate")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctlcluster stop failed: {done.stderr.strip()}")

    def running(self) -> bool:
        return self._ctl("status").returncode == 0

    def start(self) -> None:
        if self.running():
            return
        done = self._ctl("start")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctlcluster start failed: {(done.stderr or done.stdout).strip()}")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def wait_for_server(url: str, timeout: float = 60.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=3).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def recreate_database(url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


# Workers
@dataclass(slots=True)
class Workers:
    """The ``dbos_worker`` processes, one log file per slot (kept across restarts)."""

    count: int
    concurrency: int
    env: dict[str, str]
    log_dir: Path
    pidfile: Path | None
    procs: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    executor_ids: list[str] = field(default_factory=list)
    started_ms: list[int] = field(default_factory=list)
    starts: int = 0
    unexpected_exits: list[str] = field(default_factory=list)

    def start_all(self) -> None:
        self.procs = [None] * self.count
        self.executor_ids = [""] * self.count
        self.started_ms = [0] * self.count
        for slot in range(self.count):
            self.start(slot, same_id=False)

    def start(self, slot: int, *, same_id: bool) -> None:
        """Start the worker of a slot: under its previous executor id (it recovers its own work at
        launch) or a new one (its work waits for a survivor to see that its heartbeat stopped)."""
        if not same_id or not self.executor_ids[slot]:
            self.starts += 1
            self.executor_ids[slot] = f"chaos-{slot}-{self.starts}"
        self.started_ms[slot] = int(time.time() * 1000)
        with open(self.log_dir / f"worker-{slot}.log", "ab") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} start as {self.executor_ids[slot]}\n".encode())
            log.flush()
            self.procs[slot] = subprocess.Popen(
                [sys.executable, "-m", "django", "dbos_worker", "--concurrency", str(self.concurrency),
                 "--executor-id", self.executor_ids[slot], "--grace-period", "20"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        self._write_pidfile()

    def kill(self, slot: int) -> None:
        proc = self.procs[slot]
        assert proc is not None
        if proc.poll() is not None:
            self.unexpected_exits.append(f"worker {slot} ({self.executor_ids[slot]}) exited by itself: code "
                                         f"{proc.returncode}")  # fmt: skip
        else:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def check_alive(self) -> None:
        """A worker that exited without being killed is a violation: note it and start it again."""
        for slot, proc in enumerate(self.procs):
            if proc is not None and proc.poll() is not None:
                self.unexpected_exits.append(f"worker {slot} ({self.executor_ids[slot]}) exited by itself: code "
                                             f"{proc.returncode}")  # fmt: skip
                self.start(slot, same_id=True)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until every worker has written its heartbeat (its runtime is launched, its signal handlers set)."""
        from dbos_django.models import Executor
        from dbos_django.storage import connections as conns

        deadline = time.monotonic() + timeout
        since = dict(zip(self.executor_ids, self.started_ms, strict=True))
        query = Executor.objects.filter(executor_id__in=self.executor_ids).values_list("executor_id", "heartbeat_at")

        def ready() -> int:
            return sum(beat >= since[eid] for eid, beat in conns.run("default", lambda conn: list(query.all())))

        while ready() < self.count and time.monotonic() < deadline:
            time.sleep(0.2)

    def stop_all(self, timeout: float = 60.0) -> list[int | None]:
        """SIGTERM (graceful) every worker; SIGKILL one still there after ``timeout``. Return the exit codes."""
        live = [p for p in self.procs if p is not None and p.poll() is None]
        for proc in live:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in live:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._write_pidfile()
        return [p.returncode if p is not None else None for p in self.procs]

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()

    def _write_pidfile(self) -> None:
        if self.pidfile is not None:
            live = [str(p.pid) for p in self.procs if p is not None and p.poll() is None]
            self.pidfile.write_text("\n".join(live) + "\n")

    def log_stats(self) -> dict[str, int]:
        text = "".join((self.log_dir / f"worker-{slot}.log").read_text(errors="replace") for slot in range(self.count))
        return {"log_lines": text.count("\n"), "tracebacks": text.count("Traceback (most recent call last)"),
                "database_away_lines": text.count("unreachable"),
                "database_back_lines": text.count("answers again")}  # fmt: skip


# The load
@dataclass(slots=True)
class Load:
    """Enqueues the orders and pays them; what it did becomes the checker's plan."""

    workflows: int
    doomed_every: int
    backlog: int
    rate: float  # orders per second at most: the orders are spread over the faults
    orders: dict[str, tuple[int, bool]] = field(default_factory=dict)
    payments: dict[str, str] = field(default_factory=dict)
    waiting_for_payment: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    submitted: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def submit(self) -> None:
        """Enqueue every order, keeping at most ``backlog`` unfinished; pay half of them at once."""
        from chaos.chaosapp import workflows as wf
        from dbos_django import DBOS, SetWorkflowID

        try:
            started = time.monotonic()
            for number in range(self.workflows):
                time.sleep(max(0.0, started + number / self.rate - time.monotonic()))
                if number % 20 == 0:
                    while unfinished_orders() >= self.backlog:
                        time.sleep(0.05)
                workflow_id, doomed = f"order-{number:06d}", number % self.doomed_every == self.doomed_every - 1
                with self.lock:
                    self.orders[workflow_id] = (number, doomed)
                with SetWorkflowID(workflow_id):
                    wf.orders.enqueue(wf.order, number, doomed)
                if doomed:
                    continue
                token = f"pay-{number}-{random.getrandbits(32):08x}"
                if number % 2:
                    with self.lock:
                        self.waiting_for_payment[workflow_id] = token
                else:
                    self.payments[workflow_id] = token
                    DBOS.send(workflow_id, token, wf.PAYMENT_TOPIC)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.submitted.set()
            log(f"submitted {len(self.orders)} orders")

    def pay_when_asked(self, stop: threading.Event) -> None:
        """The payment service: pay the orders whose event says they wait for their payment."""
        from django.db import close_old_connections

        from chaos.chaosapp import workflows as wf
        from dbos_django import DBOS

        try:
            while not stop.is_set():
                with self.lock:
                    batch = list(self.waiting_for_payment.items())[:500]
                if not batch and self.submitted.is_set():
                    return
                for workflow_id in awaiting_payment([wid for wid, _ in batch]):
                    token = self.waiting_for_payment[workflow_id]
                    self.payments[workflow_id] = token
                    DBOS.send(workflow_id, token, wf.PAYMENT_TOPIC)
                    with self.lock:
                        del self.waiting_for_payment[workflow_id]
                close_old_connections()
                stop.wait(0.1)
        except BaseException as exc:
            self.error = exc
            raise


def unfinished_orders() -> int:
    from chaos.chaosapp.workflows import QUEUE_NAME
    from dbos_django.models import Workflow
    from dbos_django.storage import connections as conns

    query = Workflow.objects.filter(queue_name=QUEUE_NAME, status__in=("ENQUEUED", "PENDING"))
    return conns.run("default", lambda conn: query.count())


def unfinished_workflows() -> int:
    from dbos_django.models import TERMINAL_STATUSES, Workflow
    from dbos_django.storage import connections as conns

    query = Workflow.objects.exclude(status__in=TERMINAL_STATUSES)
    return conns.run("default", lambda conn: query.count())


def awaiting_payment(workflow_ids: list[str]) -> list[str]:
    import json

    from dbos_django.models import WorkflowEvent
    from dbos_django.storage import connections as conns

    query = WorkflowEvent.objects.filter(workflow_id__in=workflow_ids, key="stage",
                                         value=json.dumps("awaiting-payment")).values_list("workflow_id", flat=True)  # fmt: skip
    return conns.run("default", lambda conn: list(query))


# The faults
@dataclass(slots=True)
class Faults:
    """SIGKILL a random worker every few seconds (and restart it); restart PostgreSQL now and then."""

    workers: Workers
    cluster: Cluster
    server_url: str
    kill_every: tuple[float, float]
    restart_every: float
    down: tuple[float, float]
    rng: random.Random
    kills: int = 0
    kills_while_down: int = 0
    restarts: int = 0
    downtime: float = 0.0

    def run(self, done: threading.Event, min_kills: int, min_restarts: int) -> None:
        """Inject faults until ``done`` is set and at least the minimum numbers were injected."""
        now = time.monotonic()
        next_kill, next_restart = now + self.rng.uniform(*self.kill_every), now + self.restart_every / 2
        while not (done.is_set() and self.kills >= min_kills and self.restarts >= min_restarts):
            time.sleep(max(0.0, min(next_kill, next_restart, time.monotonic() + 0.5) - time.monotonic()))
            self.workers.check_alive()
            if time.monotonic() >= next_kill:
                self.kill_one()
                next_kill = time.monotonic() + self.rng.uniform(*self.kill_every)
            if time.monotonic() >= next_restart:
                self.restart_server()
                next_restart = time.monotonic() + self.restart_every * self.rng.uniform(0.75, 1.25)

    def kill_one(self) -> None:
        slot = self.rng.randrange(self.workers.count)
        self.workers.kill(slot)
        self.kills += 1
        self.workers.start(slot, same_id=self.rng.random() < 0.5)
        log(f"kill {self.kills}: worker {slot} SIGKILLed and restarted as {self.workers.executor_ids[slot]}")

    def restart_server(self) -> None:
        seconds = self.rng.uniform(*self.down)
        self.cluster.stop_abruptly()
        started = time.monotonic()
        if self.rng.random() < 0.5:
            # Faults together: a worker dies while the database is away, and its successor starts
            # before the database is back (it waits for it, then recovers).
            time.sleep(seconds * self.rng.random())
            self.kill_one()
            self.kills_while_down += 1
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        self.cluster.start()
        wait_for_server(self.server_url)
        self.restarts += 1
        self.downtime += time.monotonic() - started
        log(f"PostgreSQL restart {self.restarts}: down {time.monotonic() - started:.1f}s (stop -m immediate)")


_started = time.monotonic()


def log(text: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {text}", flush=True)


def drain(timeout: float) -> int:
    """Wait until no workflow is left unfinished, or ``timeout``; return how many are left."""
    deadline, last = time.monotonic() + timeout, -1
    while (left := unfinished_workflows()) and time.monotonic() < deadline:
        if left != last:
            log(f"draining: {left} workflows unfinished")
            last = left
        time.sleep(1.0)
    return left


def planned_seconds(args: argparse.Namespace) -> float:
    """How long the faults asked for take: the orders are spread over that time (or longer, if the workers lag)."""
    kills = args.kills * sum(args.kill_every) / 2
    restarts = (args.pg_restarts - 0.5) * args.pg_restart_every + args.pg_restarts * sum(args.pg_down) / 2
    return max(kills, restarts, 1.0)


def setup_django(database_url: str) -> None:
    os.environ["CHAOS_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "chaos.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    version, name = args.pg_cluster.split("/", 1)
    cluster = Cluster(version, name)
    chaos_url = with_database(args.database_url, args.database_name)
    log_dir = args.log_dir or Path(f"/tmp/dbos-chaos-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    log_dir.mkdir(parents=True, exist_ok=True)
    log(f"chaos soak: {args.workflows} orders, >= {args.kills} kills, >= {args.pg_restarts} PostgreSQL restarts "
        f"of {args.pg_cluster}; {args.workers} workers x {args.concurrency} threads; seed {seed}; logs in {log_dir}")
    workers: Workers | None = None
    try:
        wait_for_server(args.database_url)
        recreate_database(args.database_url, args.database_name)
        setup_django(chaos_url)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chaos.settings", "CHAOS_DATABASE_URL": chaos_url,
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               "CHAOS_QUEUE_CONCURRENCY": str(args.queue_concurrency)}  # fmt: skip
        pidfile = Path(os.environ["CHAOS_PIDFILE"]) if os.environ.get("CHAOS_PIDFILE") else None
        workers = Workers(args.workers, args.concurrency, env, log_dir, pidfile)
        code = soak(args, seed, cluster, workers)
        if code == 0 and not args.keep_database:
            from django.db import connections

            connections.close_all()
            recreate_database(args.database_url, args.database_name, drop_only=True)
        return code
    finally:
        if workers is not None:
            workers.kill_all()
        cluster.start()  # whatever happened, leave the server running


def soak(args: argparse.Namespace, seed: int, cluster: Cluster, workers: Workers) -> int:
    from chaos.checks import Plan, check

    os.environ["CHAOS_QUEUE_CONCURRENCY"] = str(args.queue_concurrency)
    workers.start_all()
    load = Load(args.workflows, args.doomed_every, args.backlog, args.workflows / planned_seconds(args))
    stop = threading.Event()
    threads = [threading.Thread(target=load.submit, name="submit", daemon=True),
               threading.Thread(target=load.pay_when_asked, args=(stop,), name="pay", daemon=True)]  # fmt: skip
    for thread in threads:
        thread.start()
    faults = Faults(workers, cluster, args.database_url, tuple(args.kill_every), args.pg_restart_every,
                    tuple(args.pg_down), random.Random(seed))  # fmt: skip
    faults.run(load.submitted, args.kills, args.pg_restarts)
    threads[0].join()
    log(f"faults over: {faults.kills} kills, {faults.restarts} PostgreSQL restarts; submitted {len(load.orders)}")
    workers.check_alive()
    from dbos_django import DBOS

    DBOS.pause_schedule("tick")  # the ticks already enqueued still run
    threads[1].join(args.drain_timeout)
    left = drain(args.drain_timeout)
    stop.set()
    log(f"drained ({left} left); stopping the workers")
    workers.wait_ready()
    exit_codes = workers.stop_all()
    log("workers stopped; checking")
    findings = check(Plan(orders=dict(load.orders), payments=dict(load.payments)))
    if load.error is not None:
        findings.violations.append(f"the load failed: {load.error!r}")
    findings.violations.extend(workers.unexpected_exits)
    findings.flag("workers that did not stop cleanly on SIGTERM", [str(c) for c in exit_codes if c not in (0, None)])
    stats = workers.log_stats()
    if stats["tracebacks"]:
        findings.violations.append(f"tracebacks in the workers' logs: {stats['tracebacks']} (see {workers.log_dir})")
    report(findings.figures, faults, stats, time.monotonic() - _started, left)
    for violation in findings.violations:
        print(f"VIOLATION {violation}")
    print("RESULT", "FAIL" if findings.violations else "PASS", flush=True)
    return 1 if findings.violations else 0


def report(figures: dict[str, int], faults: Faults, stats: dict[str, int], wall: float, left: int) -> None:
    f = figures
    rows = [
        ("workflows submitted (orders)", f"{f['submitted']}"),
        ("  succeeded", f"{f['succeeded']}"),
        ("  failed", f"{f['failed']} (doomed by design: {f['doomed']})"),
        ("  still pending", f"{f['pending']}"),
        ("  lost", f"{f['lost']}"),
        ("  resumed after a fault", f"{f['resumed']}"),
        ("workflows unfinished after the drain (stuck)", f"{left}"),
        ("child workflows", f"{f['children']}"),
        ("@transaction ledger rows", f"{f['ledger_rows']} (one per paid order)"),
        ("messages sent / delivered", f"{f['messages_sent']} / {f['deliveries']}"),
        ("schedule ticks run / rows", f"{f['tick_workflows']} / {f['tick_rows']}"),
        ("worker SIGKILLs", f"{faults.kills} ({faults.kills_while_down} while PostgreSQL was down)"),
        ("PostgreSQL restarts", f"{faults.restarts} (down {faults.downtime:.0f}s in all)"),
        ("worker log lines / 'database unreachable' / tracebacks",
         f"{stats['log_lines']} / {stats['database_away_lines']} / {stats['tracebacks']}"),
        ("wall time (from start to verdict)", f"{wall:.0f}s ({f['submitted'] / wall:.0f} orders/s)"),
    ]
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def _interrupted(signum: int, frame: object) -> None:
    log(f"interrupted ({signal.Signals(signum).name}): killing the workers, starting PostgreSQL if it is down")
    sys.exit(128 + signum)  # runs the finally blocks


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupted)
    sys.exit(main())
