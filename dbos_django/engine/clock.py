"""The one clock of the engine: step times, sleep wake-ups and deadlines come from here.

Tests replace it (``dbos_django.testing``) to move time forward instead of waiting.
"""

from __future__ import annotations

import asyncio
import threading
import time


class Clock:
    """Wall-clock time in epoch milliseconds, and sleeping."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def sleep(self, seconds: float, interrupt: threading.Event | None = None) -> None:
        """Sleep ``seconds``, or less if ``interrupt`` is set meanwhile."""
        if seconds <= 0:
            return
        if interrupt is not None:
            interrupt.wait(seconds)
        else:
            time.sleep(seconds)

    async def sleep_async(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)


_clock = Clock()


def get() -> Clock:
    return _clock


def install(clock: Clock) -> Clock:
    """Use ``clock`` from now on; return the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now_ms() -> int:
    return _clock.now_ms()
