"""Context managers that set options for the workflows started in their block."""

from __future__ import annotations

import dataclasses
from types import TracebackType

from .engine import arguments
from .engine.context import AssignedID, EnqueueOptions, options, options_scope


class SetWorkflowID:
    """Give the first workflow started in the block this id (its idempotency key)."""

    def __init__(self, workflow_id: str) -> None:
        """Raise ``DBOSInvalidArgumentError`` unless the id is a non-empty string."""
        self.workflow_id = arguments.workflow_id(workflow_id)

    _scope: object

    def __enter__(self) -> SetWorkflowID:
        self._scope = options_scope(dataclasses.replace(options(), assigned_id=AssignedID(self.workflow_id)))
        self._scope.__enter__()  # type: ignore[attr-defined]
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self._scope.__exit__()  # type: ignore[attr-defined]


class SetEnqueueOptions:
    """Options for the workflows enqueued in the block: deduplication, priority, partition, delay, version.

    ``priority`` runs from 1 (first) to 2**31-1; without one a workflow has priority 0 and runs before them.
    """

    def __init__(self, *, deduplication_id: str | None = None, priority: int | None = None,
                 app_version: str | None = None, queue_partition_key: str | None = None,
                 delay_seconds: float | None = None, duplication_policy: str = "reject") -> None:  # fmt: skip
        self.options = EnqueueOptions(deduplication_id=deduplication_id, priority=priority, app_version=app_version,
                                      queue_partition_key=queue_partition_key, delay_seconds=delay_seconds,
                                      duplication_policy=duplication_policy)  # fmt: skip

    def __enter__(self) -> SetEnqueueOptions:
        self._scope = options_scope(dataclasses.replace(options(), enqueue=self.options))
        self._scope.__enter__()  # type: ignore[attr-defined]
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self._scope.__exit__()  # type: ignore[attr-defined]


class SetWorkflowTimeout:
    """A start-to-close timeout for the workflows started in the block; ``None`` removes an inherited one.

    The deadline is absolute and passes to child workflows; a queued workflow's starts when it is
    dequeued. A workflow past its deadline ends CANCELLED at its next checkpoint.
    """

    def __init__(self, workflow_timeout_sec: float | None) -> None:
        """Raise ``DBOSInvalidArgumentError`` unless the timeout is None or a positive, finite number of seconds."""
        if workflow_timeout_sec is not None:
            arguments.positive_seconds(workflow_timeout_sec, "workflow timeout")
        self.workflow_timeout_sec = workflow_timeout_sec

    def __enter__(self) -> SetWorkflowTimeout:
        opts = dataclasses.replace(options(), timeout_seconds=self.workflow_timeout_sec, timeout_set=True)
        self._scope = options_scope(opts)
        self._scope.__enter__()  # type: ignore[attr-defined]
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self._scope.__exit__()  # type: ignore[attr-defined]
