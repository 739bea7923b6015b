"""Workflows of the cross-process tests of control, messages and schedules (``tests/test_processes.py``).

Imported by the test app's ``ready()``, so a ``dbos_worker`` child registers them too.
"""

from __future__ import annotations

import time
from datetime import datetime

from dbos_django import DBOS, Queue

from .models import SideEffect

processes = Queue("processes", polling_interval_sec=0.05)
GIVE_UP_SECONDS = 120.0


@DBOS.step()
def mark(key: str) -> str:
    SideEffect.objects.create(key=key)
    return key


@DBOS.step()
def wait_for_row(key: str) -> None:
    """Wait until the test creates a SideEffect row with this key (a gate the test opens)."""
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not SideEffect.objects.filter(key=key).exists() and time.monotonic() < deadline:
        time.sleep(0.02)


@DBOS.workflow()
def two_marks_with_a_gate(tag: str) -> str:
    mark(f"{tag}:first")
    wait_for_row(f"{tag}:open")
    mark(f"{tag}:second")
    return f"{tag}:done"


@DBOS.workflow()
def receives(topic: str) -> object:
    return DBOS.recv(topic, timeout_seconds=60)


@DBOS.workflow()
def ticks(scheduled_time: datetime, context: object) -> str:
    return mark(f"tick:{scheduled_time.isoformat()}")
