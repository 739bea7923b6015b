"""Each process writes a heartbeat row; each also takes over the work of processes whose heartbeat stopped."""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import TYPE_CHECKING

from django.db import close_old_connections

from ..models import Executor
from ..storage import connections as conns
from . import clock, recovery

if TYPE_CHECKING:
    from .runtime import Runtime

logger = logging.getLogger("dbos_django")


class Heartbeat:
    """Every ``HEARTBEAT_INTERVAL`` seconds: say we are alive, and recover the dead."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dbos-heartbeat", daemon=True)
        self.started_at = clock.now_ms()

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def beat(self) -> None:
        runtime = self.runtime
        running = runtime.dispatcher.running_count() if runtime.dispatcher else 0
        now = clock.now_ms()
        conns.run(runtime.alias, lambda conn: Executor.objects.using(runtime.alias).update_or_create(
            executor_id=runtime.executor_id,
            defaults={"heartbeat_at": now, "running": running, "hostname": socket.gethostname(), "pid": os.getpid(),
                      "application_version": runtime.application_version,
                      "queues": ",".join(runtime.queue_names or [])},
            create_defaults={"started_at": now, "heartbeat_at": now, "running": running,
                             "hostname": socket.gethostname(), "pid": os.getpid(),
                             "application_version": runtime.application_version,
                             "queues": ",".join(runtime.queue_names or [])},
        ))  # fmt: skip

    def take_over_dead(self) -> int:
        runtime = self.runtime
        if conns.outages.up_for(runtime.alias) < runtime.settings.worker_timeout:
            # Just after the database was away every heartbeat is old, live workers' too: give them
            # a full timeout to beat again before calling anyone dead (and re-running their work).
            return 0
        cutoff = clock.now_ms() - int(runtime.settings.worker_timeout * 1000)
        dead = conns.run(runtime.alias, lambda conn: list(
            Executor.objects.using(runtime.alias).filter(heartbeat_at__lt=cutoff)
            .exclude(executor_id=runtime.executor_id).values_list("executor_id", flat=True)
        ))  # fmt: skip
        if not dead:
            return 0
        count = recovery.recover_dead(runtime, dead)
        conns.run(runtime.alias, lambda conn: Executor.objects.using(runtime.alias).filter(
            executor_id__in=dead, heartbeat_at__lt=cutoff).delete())  # fmt: skip
        return count

    def _run(self) -> None:
        while not self._stop.wait(self.runtime.settings.heartbeat_interval):
            try:
                self.beat()
                self.take_over_dead()
            except Exception:
                logger.exception("Heartbeat failed; retrying at the next beat")
            finally:
                close_old_connections()
