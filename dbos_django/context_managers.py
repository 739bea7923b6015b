"""Context managers that set options for the workflows started in their block."""

from __future__ import annotations

import dataclasses
from types import TracebackType

from .engine.context import AssignedID, options, options_scope
from .error import DBOSException


class SetWorkflowID:
    """Give the first workflow started in the block this id (its idempotency key)."""

    def __init__(self, workflow_id: str) -> None:
        if not isinstance(workflow_id, str) or not workflow_id.strip():
            raise DBOSException(f"Invalid workflow ID {workflow_id!r}: it must be a non-empty string")
        self.workflow_id = workflow_id

    _scope: object

    def __enter__(self) -> SetWorkflowID:
        self._scope = options_scope(dataclasses.replace(options(), assigned_id=AssignedID(self.workflow_id)))
        self._scope.__enter__()  # type: ignore[attr-defined]
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self._scope.__exit__()  # type: ignore[attr-defined]
