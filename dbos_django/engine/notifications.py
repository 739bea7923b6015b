"""In-process wake-ups for waiters on messages, events and streams.

A waiter remembers the version of its key, looks in the database, then sleeps until the version
changes or its polling interval passes. Versions change when this process writes (at once), when
the PostgreSQL listener hears a NOTIFY from another process, and for everyone when the listener
reconnects (notifications may have been lost meanwhile).
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

MAX_KEYS = 100_000


class Waiters:
    """Versions of keys like ``"msg:<workflow>::<topic>"``, and the threads and tasks waiting on them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._versions: dict[str, int] = defaultdict(int)
        self._epoch = 0
        self._async: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)

    def version(self, key: str) -> tuple[int, int]:
        """Where ``key`` stands now; from here on every change of it is counted (so none is missed)."""
        with self._cond:
            if key not in self._versions and len(self._versions) >= MAX_KEYS:
                self._versions.clear()  # forgetting every key is safe: the new epoch wakes every waiter
                self._epoch += 1
                self._cond.notify_all()
            return self._versions.setdefault(key, 0), self._epoch

    def notify(self, key: str | None) -> None:
        """``key`` changed (None: anything may have changed)."""
        with self._cond:
            if key is None:
                self._epoch += 1
                targets = [e for events in self._async.values() for e in events]
            else:
                if key in self._versions:
                    self._versions[key] += 1
                targets = list(self._async.get(key, ()))
            self._cond.notify_all()
        for loop, event in targets:
            loop.call_soon_threadsafe(event.set)

    def wait(self, key: str, seen: tuple[int, int], timeout: float, interrupt: threading.Event | None = None) -> None:
        """Sleep until ``key`` changes after ``seen``, ``interrupt`` is set, or ``timeout`` passes."""
        with self._cond:
            self._versions.setdefault(key, 0)
            self._cond.wait_for(lambda: (self._versions[key], self._epoch) != seen
                                or (interrupt is not None and interrupt.is_set()), timeout)  # fmt: skip

    async def wait_async(self, key: str, seen: tuple[int, int], timeout: float) -> None:
        """The coroutine twin of ``wait``: no thread is held while it waits."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._cond:
            self._versions.setdefault(key, 0)
            if (self._versions[key], self._epoch) != seen:
                return  # it changed between the look and now
            self._async[key].add(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._cond:
                self._async[key].discard(entry)
                if not self._async[key]:
                    del self._async[key]

    def forget(self, key: str) -> None:
        """No one waits on ``key`` any more: stop counting it."""
        with self._cond:
            self._versions.pop(key, None)


waiters = Waiters()


def message_key(destination: str, topic: str) -> str:
    return f"msg:{destination}::{topic}"


def event_key(workflow_id: str, key: str) -> str:
    return f"event:{workflow_id}::{key}"


def stream_key(workflow_id: str, key: str) -> str:
    return f"stream:{workflow_id}::{key}"


CHANNEL_PREFIX = {"dbos_message": "msg:", "dbos_event": "event:", "dbos_stream": "stream:"}
