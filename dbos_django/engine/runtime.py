"""The running engine of one process: created by ``DBOS.launch()``, ended by ``DBOS.destroy()``."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import TYPE_CHECKING, Any

from django.db import close_old_connections, connections

from .. import conf
from ..error import DBOSException
from .notifications import CHANNEL_PREFIX, waiters
from .registry import discover

if TYPE_CHECKING:
    from ..storage.listener import Listener
    from .context import WorkflowContext
    from .dispatcher import Dispatcher
    from .heartbeat import Heartbeat
    from .scheduler import Scheduler

logger = logging.getLogger("dbos_django")


class Runtime:
    """Thread pool, in-process bookkeeping of running workflows, and an event loop for async ones."""

    def __init__(self, settings: conf.DBOSSettings, queues: list[str] | None = None, *, testing: bool = False) -> None:
        self.settings = settings
        self.queue_names = queues
        # Testing mode (dbos_django.testing): no threads; started and queued workflows run in the
        # test's own thread, on the test's own connection, when the test drains them.
        self.testing = testing
        self.inline: deque[tuple[WorkflowContext, Any, tuple[Any, ...], dict[str, Any]]] = deque()
        self.crash_points: dict[str, int] = {}
        self.alias = settings.database
        self.executor_id = settings.executor_id
        self.application_version = settings.version()
        self.pool = ThreadPoolExecutor(settings.max_threads, thread_name_prefix="dbos-workflow")
        self._active: dict[str, Future[Any]] = {}
        self._done = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread
        self._loop_lock = threading.Lock()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._futures: set[Future[Any]] = set()
        self._contexts: dict[str, WorkflowContext] = {}
        self.stopped = False
        self.pid = os.getpid()
        self.dispatcher: Dispatcher | None = None
        self.listener: Listener | None = None
        self.heartbeat: Heartbeat | None = None
        self.scheduler: Scheduler | None = None

    def start_services(self) -> None:
        """Start the dispatcher, the heartbeat and (PostgreSQL) the notification listener."""
        from ..storage import vendor
        from ..storage.listener import Listener
        from .dispatcher import Dispatcher
        from .heartbeat import Heartbeat
        from .scheduler import Scheduler

        self.dispatcher = Dispatcher(self, self.queue_names)
        self.heartbeat = Heartbeat(self)
        self.scheduler = Scheduler(self)
        if vendor.is_postgres(connections[self.alias]):
            self.listener = Listener(self.alias, self._on_notify, self._on_reconnect)
            self.listener.start()
        self.heartbeat.start()
        self.dispatcher.start()
        self.scheduler.start()

    def _on_notify(self, channel: str, payload: str) -> None:
        if channel == "dbos_queue":
            self.wake_queue(payload)
        elif channel == "dbos_done":
            # Finished elsewhere while running here: it was cancelled (or taken over); stop at the next step.
            self.mark_cancelled([payload])
            self.notify_done()
            waiters.notify(f"done:{payload}")
        elif channel in CHANNEL_PREFIX:
            waiters.notify(CHANNEL_PREFIX[channel] + payload)

    def _on_reconnect(self) -> None:
        self.wake_queue(None)
        self.notify_done()
        waiters.notify(None)

    def listening(self) -> bool:
        """Does a live LISTEN connection wake this process (so polling can back off)?"""
        return self.listener is not None and self.listener.connected.is_set()

    def wake_queue(self, queue_name: str | None) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake(queue_name)

    def count_running(self, future: Future[Any]) -> Future[Any]:
        """Count a workflow running outside the pool (an async one, on the loop) against the thread bound."""
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    def free_slots(self) -> int:
        """Threads of the pool not running a workflow."""
        return self.settings.max_threads - len(self._futures)

    # In-process bookkeeping: one local execution per workflow id.
    def activate(self, workflow_id: str) -> Future[Any] | None:
        """Mark a workflow as running here; return the running execution's future if there is one."""
        with self._done:
            existing = self._active.get(workflow_id)
            if existing is not None:
                return existing
            self._active[workflow_id] = Future()
            return None

    def track(self, ctx: WorkflowContext) -> None:
        """A workflow body starts running here (so a cancellation can reach it)."""
        with self._done:
            self._contexts[ctx.workflow_id] = ctx

    def untrack(self, ctx: WorkflowContext) -> None:
        with self._done:
            if self._contexts.get(ctx.workflow_id) is ctx:
                del self._contexts[ctx.workflow_id]

    def mark_cancelled(self, workflow_ids: list[str]) -> None:
        """Local executions of these workflows stop before their next step."""
        with self._done:
            for workflow_id in workflow_ids:
                ctx = self._contexts.get(workflow_id)
                if ctx is not None:
                    ctx.cancel_here()

    def running(self, workflow_id: str) -> Future[Any] | None:
        """The future of a local execution of this workflow, if one is running."""
        with self._done:
            return self._active.get(workflow_id)

    def release(self, workflow_id: str) -> Future[Any] | None:
        """Forget a local execution; return its future, for the caller to resolve with the outcome."""
        with self._done:
            return self._active.pop(workflow_id, None)

    def keep(self, task: asyncio.Future[Any]) -> asyncio.Future[Any]:
        """Hold a strong reference to a background task until it ends."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def notify_done(self) -> None:
        """Wake local waiters: some workflow just recorded its outcome."""
        with self._done:
            self._done.notify_all()

    def wait_done(self, timeout: float) -> None:
        with self._done:
            self._done.wait(timeout)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``fn`` on the pool, cleaning up Django connections after it."""

        def unit() -> Any:
            try:
                return fn(*args)
            finally:
                close_old_connections()

        return self.count_running(self.pool.submit(unit))

    def loop(self) -> asyncio.AbstractEventLoop:
        """The background event loop running async workflows started from sync code or recovery."""
        with self._loop_lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._loop_thread = threading.Thread(target=self._run_loop, args=(self._loop,),
                                                     name="dbos-loop", daemon=True)  # fmt: skip
                self._loop_thread.start()
            return self._loop

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def stop_claiming(self) -> None:
        """Take no new work from the queues (running workflows go on)."""
        if self.dispatcher is not None:
            self.dispatcher.claiming.clear()

    def shutdown(self, timeout: float = 0) -> None:
        """Stop taking work; wait up to ``timeout`` seconds for running workflows (they are recovered later)."""
        self.stopped = True
        for service in (self.scheduler, self.dispatcher, self.heartbeat, self.listener):
            if service is not None:
                service.stop()
        if timeout > 0:
            futures_wait(list(self._futures), timeout)
            for task in list(self._tasks):
                future = asyncio.run_coroutine_threadsafe(asyncio.wait([task], timeout=timeout), task.get_loop())
                future.result(timeout + 1)
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(timeout=5)
        from .aio import shutdown_pool

        shutdown_pool()


_runtime: Runtime | None = None
_lock = threading.Lock()


def current() -> Runtime:
    """The launched runtime; raise if ``DBOS.launch()`` was not called."""
    _relaunch_after_fork()
    if _runtime is None:
        raise DBOSException(
            "DBOS is not launched: call DBOS.launch() (or run `manage.py dbos_worker`) before running workflows"
        )
    return _runtime


def get() -> Runtime | None:
    _relaunch_after_fork()
    return _runtime


# Forking servers (gunicorn --preload, a runtime started in a master's ready()): threads do not
# survive fork(), and a connection shared with the parent must never be used (or closed) here.
_inherited: list[Any] = []  # the parent's connections: kept referenced, so nothing closes them


def _forget_connections_after_fork() -> None:
    if _runtime is None:
        return
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _inherited.append(conn.connection)
            conn.connection = None
    from . import aio

    aio.forget_pools_after_fork()


def _relaunch_after_fork() -> None:
    """In a forked child, replace the parent's runtime by a fresh one (same settings and queues)."""
    global _runtime
    inherited = _runtime
    if inherited is None or inherited.pid == os.getpid():
        return
    with _lock:
        if _runtime is inherited:
            _inherited.append(inherited)  # its threads are gone; its objects must not be finalized here
            _runtime = None
            logger.info("Forked process %d: starting a fresh DBOS runtime", os.getpid())
    if not inherited.testing:
        launch(inherited.queue_names)


os.register_at_fork(after_in_child=_forget_connections_after_fork)


def launch(queues: list[str] | None = None, *, testing: bool = False) -> Runtime:
    """Start the runtime once (dispatcher, heartbeat, recovery); later calls return the running one.

    ``queues`` limits which queues this process serves (None: all of them).
    """
    global _runtime
    with _lock:
        if _runtime is None:
            discover()  # every process registers the same workflows
            settings = conf.get()
            if settings.log_level:
                logging.getLogger("dbos_django").setLevel(settings.log_level)
            runtime = Runtime(settings, queues, testing=testing)
            from . import recovery
            from .scheduler import register_code_schedules

            recovery.recover_own(runtime)
            register_code_schedules(runtime.alias)
            if not testing:
                runtime.start_services()
            _runtime = runtime
            logger.info("DBOS launched: executor %s, application version %s",
                        runtime.executor_id, runtime.application_version)  # fmt: skip
        return _runtime


def destroy(timeout: float = 0) -> None:
    global _runtime
    with _lock:
        if _runtime is not None:
            _runtime.shutdown(timeout)
            _runtime = None
