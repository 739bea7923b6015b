"""`make demo` and `make demo-crash`, run as a newcomer runs them: real processes, real HTTP, Ctrl-C.

On the PostgreSQL run of the suite the demo gets a PostgreSQL database of its own (DATABASE_URL), as a user
who sets DATABASE_URL would; otherwise a fresh SQLite file.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from example_project.shop import payments
from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.slow

DEMO_PG_DATABASE = "dbos_django_demo_test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def demo_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of the demo's own: PostgreSQL when the suite runs on it, else a new SQLite file."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
        return
    import psycopg

    server = suite_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DEMO_PG_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DEMO_PG_DATABASE}")
    yield f"{server}/{DEMO_PG_DATABASE}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DEMO_PG_DATABASE} WITH (FORCE)")


@dataclass
class RunningDemo:
    """`make demo` in its own process group (the terminal's Ctrl-C reaches the whole group)."""

    process: subprocess.Popen[str]
    base: str
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def press_ctrl_c(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def demo(demo_database_url: str) -> Iterator[RunningDemo]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": demo_database_url, "DEMO_PORT": str(port), "SHOP_PACKING_SECONDS": "0.2"}
    for name in ("DJANGO_SETTINGS_MODULE", "DBOS_USE_TEST_DB", "PYTHONPATH"):
        env.pop(name, None)
    command = ["make", "--no-print-directory", "demo", f"VENV={sys.prefix}"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)  # fmt: skip
    running = RunningDemo(process, f"http://127.0.0.1:{port}")
    reader = threading.Thread(target=running.read_output, daemon=True)
    reader.start()
    try:
        wait_for(lambda: "Ctrl-C stops both" in running.output() or process.poll() is not None, timeout=180)
        assert process.poll() is None, running.output()
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(10)
        assert process.stdout is not None
        process.stdout.close()


class Browser:
    """Just enough of a browser: cookies, CSRF tokens, forms."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path: str, form: dict[str, object], *, token_from: str) -> str:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(token_from))
        assert token, f"no CSRF token on {token_from}"
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **form}).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Referer": self.base + token_from})
        with self.opener.open(request, timeout=30) as response:
            return str(response.url)

    def status(self, order: int) -> dict[str, object]:
        return dict(json.loads(self.get(f"/orders/{order}/status.json")))


def post_webhook(base: str, event: dict[str, object]) -> dict[str, object]:
    body, signature = payments.signed(event)
    request = urllib.request.Request(f"{base}/webhooks/payment", data=body,
                                     headers={"Content-Type": "application/json", "X-Signature": signature})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def test_make_demo_prints_the_urls_and_the_admins_credentials(demo: RunningDemo) -> None:
    output = demo.output()
    assert f"Shop        {demo.base}/" in output and f"Admin       {demo.base}/admin/" in output
    assert re.search(r"user admin, password \S+", output)


def test_an_order_placed_over_http_and_paid_through_the_webhook_ships(demo: RunningDemo) -> None:
    browser = Browser(demo.base)
    product = re.search(r'<option value="(\d+)"', browser.get("/"))
    assert product
    order_url = browser.post("/orders/", {"product": product.group(1), "quantity": 1, "email": "ann@example.com"},
                             token_from="/")  # fmt: skip
    order = int(re.search(r"/orders/(\d+)/$", order_url).group(1))  # type: ignore[union-attr]
    wait_for(lambda: browser.status(order)["status"] == "awaiting_payment", timeout=60)
    event = {"id": f"evt_test_{order}", "type": payments.SUCCEEDED, "order": order, "token": "tok_visa"}
    assert post_webhook(demo.base, event) == {"delivered": event["id"], "order": order}
    wait_for(lambda: browser.status(order)["status"] == "shipped", timeout=60)
    assert browser.status(order)["tracking_number"] == f"TRK{order:08d}"


def test_the_crash_lab_kills_the_worker_and_every_order_finishes_once(demo: RunningDemo) -> None:
    password = re.search(r"user admin, password (\S+)", demo.output()).group(1)  # type: ignore[union-attr]
    browser = Browser(demo.base)
    browser.post("/admin/login/", {"username": "admin", "password": password, "next": "/crash-lab/"},
                 token_from="/admin/login/")  # fmt: skip
    browser.post("/crash-lab/start", {"size": 10}, token_from="/crash-lab/")

    def finished_drill() -> str | None:
        html = browser.get("/crash-lab/")
        return html if "every order finished" in html or "unexpected" in html else None

    page = str(wait_for(finished_drill, timeout=180))
    assert "every order finished, no effect ran twice" in page
    assert "every effect once" in page
    assert "the worker was killed by SIGKILL; starting it again" in demo.output()


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_the_web_server_and_the_worker(demo: RunningDemo) -> None:
    (runner,) = children_of(demo.process.pid)
    servers = children_of(runner)
    assert len(servers) == 2  # the web server and the worker
    demo.press_ctrl_c()
    assert "demo: stopped." in demo.output()
    assert not [pid for pid in servers if alive(pid)]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(demo.base.rsplit(":", 1)[1]))) != 0


def test_make_demo_crash_shows_every_order_finishing_once(demo_database_url: str) -> None:
    env = {**os.environ, "SHOP_PACKING_SECONDS": "0.2", "DATABASE_URL": demo_database_url}
    for name in ("DJANGO_SETTINGS_MODULE", "DBOS_USE_TEST_DB", "PYTHONPATH"):
        env.pop(name, None)
    result = subprocess.run(["make", "--no-print-directory", "demo-crash", f"VENV={sys.prefix}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Every order finished; no effect ran twice." in result.stdout
    assert "SIGKILL of worker" in result.stdout
