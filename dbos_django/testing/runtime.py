"""The testing runtime: ``drain()``, ``simulate_crash()``, ``recover()``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from ..context_managers import SetWorkflowID
from ..engine import clock as engine_clock
from ..engine import inline, recovery
from ..engine import runtime as rt
from .clock import FakeClock


class DBOSTestRuntime:
    """A runtime for tests: no threads; ``drain()`` runs what is runnable, ``clock`` is the engine's time."""

    def __init__(self, runtime: rt.Runtime, clock: FakeClock | None) -> None:
        self.runtime = runtime
        self.clock = clock

    def drain(self) -> int:
        """Run every workflow that can run now (started, enqueued, delayed whose time has come), in order.

        Return how many workflow executions ran.
        """
        return inline.drain(self.runtime)

    run_until_idle = drain

    def advance(self, seconds: float) -> int:
        """Move the clock forward, then drain: delays, sleeps and timeouts that came due take effect.

        Return how many workflow executions ran. Raise ``RuntimeError`` if the runtime uses the real clock.
        """
        if self.clock is None:
            raise RuntimeError("this test runtime uses the real clock; launch it with clock=FakeClock()")
        self.clock.advance(seconds)
        return self.drain()

    def simulate_crash(self, func: Callable[..., Any], *args: Any, after_step: int, workflow_id: str | None = None,
                       **kwargs: Any) -> str:  # fmt: skip
        """Start ``func`` and "kill the process" once its step ``after_step`` is checkpointed.

        The database is left as a SIGKILL at that point leaves it: the workflow PENDING, owned by
        this executor, with checkpoints 1..``after_step`` and nothing after. Return its id.
        """
        from ..facade import DBOS

        with SetWorkflowID(workflow_id) if workflow_id else nullcontext():
            handle = DBOS.start_workflow(func, *args, **kwargs)
        inline.drain(self.runtime, until=handle.workflow_id, crash_points={handle.workflow_id: after_step})
        return handle.workflow_id

    def recover(self) -> int:
        """Do what a fresh process with this executor id does at launch: resume its PENDING workflows.

        Return how many workflow executions ran.
        """
        self.runtime.inline.clear()
        with self.runtime._done:
            self.runtime._active.clear()
        recovery.recover_own(self.runtime)
        return self.drain()


def launch(*, clock: FakeClock | None = None) -> DBOSTestRuntime:
    """Launch the runtime in testing mode (and install ``clock`` as the engine's clock if given).

    Raise ``RuntimeError`` if DBOS is already launched.
    """
    if rt.get() is not None:
        raise RuntimeError("DBOS is already launched: call DBOS.destroy() first")
    if clock is not None:
        engine_clock.install(clock)
    return DBOSTestRuntime(rt.launch(testing=True), clock)


def destroy() -> None:
    """End the testing runtime and put the real clock back."""
    from ..facade import DBOS

    DBOS.destroy()
    engine_clock.install(engine_clock.Clock())
