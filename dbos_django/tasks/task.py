"""``DBOSTask``: a Django task that takes DBOS options: ``@task(max_recovery_attempts=..., timeout=...)``."""

from __future__ import annotations

from dataclasses import dataclass

from .compat import Task


@dataclass(frozen=True, slots=True, kw_only=True)
class DBOSTask(Task):  # type: ignore[misc]
    """Set as the backend's task class, so ``@task(...)`` accepts the DBOS options below."""

    max_recovery_attempts: int | None = None
    timeout: float | None = None  # seconds, start to finish (SetWorkflowTimeout)
    deduplication_id: str | None = None
