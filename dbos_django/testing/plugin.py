"""The pytest plugin (registered through the ``pytest11`` entry point): fixtures for users' tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def dbos_runtime(db: Any) -> Iterator[Any]:
    """A clean DBOS runtime in testing mode on the test database, with a ``FakeClock``.

    Works in plain ``@pytest.mark.django_db`` tests: workflows run in the test's thread and
    transaction when the test calls ``dbos_runtime.drain()`` (or a handle's ``get_result()``).
    """
    from dbos_django import testing

    runtime = testing.launch(clock=testing.FakeClock())
    try:
        yield runtime
    finally:
        testing.destroy()


@pytest.fixture
def dbos_live_runtime(transactional_db: Any) -> Iterator[Any]:
    """A real background runtime (threads, queue dispatcher) for ``django_db(transaction=True)`` tests."""
    from dbos_django import DBOS

    DBOS.launch()
    try:
        yield DBOS
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=10)
