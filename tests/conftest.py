from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection, connections

from dbos_django import DBOS

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]


@pytest.fixture
def dbos(transactional_db: None) -> Iterator[type[DBOS]]:
    """A launched runtime on the test database, destroyed after the test."""
    DBOS.launch()
    yield DBOS
    DBOS.destroy(workflow_completion_timeout_sec=10)


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.02) -> object:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    """Run ``action`` on another thread after ``seconds`` (closing that thread's connections after it)."""

    def run() -> None:
        time.sleep(seconds)
        try:
            action()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child process that must use this test run's database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    env["DBOS_USE_TEST_DB"] = str(connection.settings_dict["NAME"])
    env.update(extra)
    return env


PYTHON = sys.executable


@pytest.fixture
def dbos_runtime_testing(transactional_db: None) -> Iterator[object]:
    """A testing-mode runtime (``dbos_django.testing``) in a transactional test."""
    from dbos_django import testing

    runtime = testing.launch(clock=testing.FakeClock())
    yield runtime
    testing.destroy()
