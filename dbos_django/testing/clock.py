"""A clock that tests move forward: sleeping is instant, and time passes only when told."""

from __future__ import annotations

import threading
import time

from ..engine.clock import Clock


class FakeClock(Clock):
    """Virtual time in epoch milliseconds, starting now (or at ``start_ms``).

    ``sleep`` moves the time forward by the amount slept and returns at once, so a workflow that
    sleeps an hour finishes instantly with an hour recorded; ``advance`` moves it for everyone.
    """

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = start_ms if start_ms is not None else time.time_ns() // 1_000_000
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """Return the virtual time, in epoch milliseconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the time forward by ``seconds`` (nothing runs: see :meth:`DBOSTestRuntime.advance`).

        Raise ``ValueError`` for a negative amount: time only moves forward.
        """
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += int(seconds * 1000)

    def sleep(self, seconds: float, interrupt: threading.Event | None = None) -> None:
        """Move the time forward by ``seconds`` and return at once (unless ``interrupt`` is already set)."""
        if seconds > 0 and not (interrupt is not None and interrupt.is_set()):
            self.advance(seconds)

    async def sleep_async(self, seconds: float) -> None:
        """Async twin of :meth:`sleep`."""
        if seconds > 0:
            self.advance(seconds)
