"""`make demo`: the shop's web server and a `dbos_worker`, together, until Ctrl-C.

SQLite by default (no server needed); PostgreSQL when DATABASE_URL is set. Migrates, creates the demo admin
user, starts both processes, prints the URLs, restarts the worker if it dies (the crash lab kills it), and on
Ctrl-C stops the worker gracefully and then the web server.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKER_GRACE_SECONDS = 5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("DEMO_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8000")))
    return parser.parse_args()


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def prepare() -> tuple[str, str]:
    """Migrate and create the demo admin user; return the database's description and the admin's password."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=0)
    password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(9)
    admin, _ = get_user_model().objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
    admin.is_staff = admin.is_superuser = True
    admin.set_password(password)
    admin.save()
    database = settings.DATABASES["default"]
    where = database["NAME"] if database["ENGINE"].endswith("sqlite3") else f"{database['HOST']}/{database['NAME']}"
    connections.close_all()
    return f"{database['ENGINE'].rsplit('.', 1)[-1]} {where}", password


class Demo:
    """The two processes, each in its own session so that Ctrl-C reaches only us and we stop them in order."""

    def __init__(self, host: str, port: int) -> None:
        self.address = f"{host}:{port}"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "SHOP_CRASH_LAB": "1"}
        self.env.setdefault("DBOS_LOG_LEVEL", "INFO")
        self.stopping = False
        self.worker = self._start_worker()
        self.web = self._spawn("runserver", self.address, "--noreload")

    def _spawn(self, *command: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), *command], env=self.env, cwd=ROOT,
                                start_new_session=True)  # fmt: skip

    def _start_worker(self) -> subprocess.Popen[bytes]:
        # A stable executor id: a restarted worker resumes, at launch, the workflows its predecessor was running.
        return self._spawn("dbos_worker", "--executor-id", f"demo-worker-{socket.gethostname()}",
                           "--grace-period", str(WORKER_GRACE_SECONDS))  # fmt: skip

    def wait_until_serving(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise SystemExit(f"The web server exited with status {self.web.returncode}.")
            try:
                urllib.request.urlopen(f"http://{self.address}/", timeout=2).close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"The web server did not answer on http://{self.address}/ within {timeout:.0f} s.")

    def supervise(self) -> int:
        """Restart the worker whenever it dies; return when asked to stop, or when the web server dies."""
        while not self.stopping:
            if self.web.poll() is not None:
                print(f"demo: the web server exited with status {self.web.returncode}; stopping.", flush=True)
                self.stop()
                return 1
            if self.worker.poll() is not None and not self.stopping:
                code = self.worker.returncode
                how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
                print(f"demo: the worker was {how}; starting it again, as a process manager would.", flush=True)
                self.worker = self._start_worker()
            time.sleep(0.2)
        return 0

    def request_stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def stop(self) -> None:
        """The worker first (it finishes or hands back what it runs), then the web server."""
        self.stopping = True
        print("\ndemo: stopping the worker (running workflows get a few seconds to finish)…", flush=True)
        _terminate(self.worker, signal.SIGTERM, WORKER_GRACE_SECONDS + 10)
        _terminate(self.web, signal.SIGTERM, 10)
        print("demo: stopped. Run `make demo` again to continue where you left off.", flush=True)


def _terminate(process: subprocess.Popen[bytes], signum: int, timeout: float) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signum)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> int:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    sys.path.insert(0, str(ROOT))
    if not port_is_free(args.host, args.port):
        print(f"demo: port {args.port} is in use on {args.host}; choose another: DEMO_PORT=8001 make demo",
              file=sys.stderr)  # fmt: skip
        return 2
    database, password = prepare()
    demo = Demo(args.host, args.port)
    signal.signal(signal.SIGINT, demo.request_stop)
    signal.signal(signal.SIGTERM, demo.request_stop)
    try:
        demo.wait_until_serving()
    except SystemExit:
        demo.stop()
        raise
    base = f"http://{demo.address}"
    print(
        f"""
  dbos_django demo: a shop whose orders are durable workflows ({database})

    Shop        {base}/              place an order, pay for it, watch it live
    Crash lab   {base}/crash-lab/    kill the worker in the middle of orders; nothing is lost or done twice
    Admin       {base}/admin/        user admin, password {password}

  The web server and one `dbos_worker` are running. Ctrl-C stops both.
""",
        flush=True,
    )
    code = demo.supervise()
    if code == 0:
        demo.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
