"""Is this deployment healthy? The checks behind ``manage.py dbos_health``, for container probes.

The checks run in order and stop at the first failure, which raises ``Unhealthy`` naming it.
Each check has its own exit code, so a probe's log tells which one failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import conf
from ..storage import health as store
from . import clock
from . import runtime as rt

#: Exit status of ``dbos_health`` per failed check (0: healthy; 1 and 2: a bad option, a usage error).
EXIT_CODES = {"database": 3, "migrations": 4, "worker": 5, "enqueued": 6, "pending": 7}


class Unhealthy(Exception):
    """A check failed: ``check`` names it, ``message`` says what was found."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check
        self.message = message

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.check]


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Ages in seconds; None skips the check."""

    worker_max_age: float | None
    max_enqueued_age: float | None = None
    max_pending_age: float | None = None


def _alias() -> str:
    runtime = rt.get()
    return runtime.alias if runtime else conf.get().database


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _database(alias: str) -> str:
    try:
        store.ping(alias)
    except Exception as exc:  # the driver's own error: whatever it is, the database does not answer
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise Unhealthy("database", f"database {alias!r} does not answer ({first_line})") from exc
    return "database answers"


def _migrations(alias: str) -> str:
    missing = store.unapplied_migrations(alias)
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise Unhealthy("migrations", f"{len(missing)} unapplied migration(s): {shown}")
    return "migrations applied"


def _worker(alias: str, max_age: float) -> str:
    newest = store.newest_heartbeat(alias)
    age = (clock.now_ms() - newest) / 1000 if newest is not None else None
    if age is None or age > max_age:
        seen = "no worker has ever reported" if age is None else f"latest {age:.0f}s ago"
        raise Unhealthy("worker", f"no worker heartbeat in the last {_seconds(max_age)} ({seen})")
    return f"worker heartbeat {age:.0f}s ago"


def _backlog(alias: str, status: str, max_age: float) -> str:
    since = store.oldest_since(alias, status)
    if since is None:
        return f"no {status} workflow"
    age = (clock.now_ms() - since) / 1000
    if age > max_age:
        raise Unhealthy(status.lower(), f"a workflow has been {status} for {age:.0f}s (limit {_seconds(max_age)})")
    return f"oldest {status} {age:.0f}s"


def check(thresholds: Thresholds) -> list[str]:
    """Run every check; return what each found, or raise ``Unhealthy`` at the first failure."""
    alias = _alias()
    found = [_database(alias), _migrations(alias)]
    if thresholds.worker_max_age is not None:
        found.append(_worker(alias, thresholds.worker_max_age))
    if thresholds.max_enqueued_age is not None:
        found.append(_backlog(alias, "ENQUEUED", thresholds.max_enqueued_age))
    if thresholds.max_pending_age is not None:
        found.append(_backlog(alias, "PENDING", thresholds.max_pending_age))
    return found
