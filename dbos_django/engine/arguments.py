"""Checks of the public API's arguments: a bad value raises ``DBOSInvalidArgumentError`` naming it.

Each check runs before the call writes anything, so an invalid call leaves the database as it was.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..error import DBOSInvalidArgumentError


def text(value: object, what: str) -> str:
    """A non-empty string (an id, a name) without NUL characters."""
    if not isinstance(value, str) or not value.strip():
        raise DBOSInvalidArgumentError(f"Invalid {what} {value!r}: it must be a non-empty string")
    return _without_nul(value, what)


def _without_nul(value: str, what: str) -> str:
    if "\x00" in value:
        raise DBOSInvalidArgumentError(f"Invalid {what} {value!r}: it contains a NUL character, "
                                       "which PostgreSQL cannot store")  # fmt: skip
    return value


def optional_text(value: object, what: str) -> str | None:
    return None if value is None else text(value, what)


def workflow_id(value: object, what: str = "workflow ID") -> str:
    return text(value, what)


def workflow_ids(values: object) -> list[str]:
    """A list of workflow ids (a bare string would be read as its characters)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise DBOSInvalidArgumentError(f"Invalid workflow IDs {values!r}: pass a list of workflow IDs")
    return [workflow_id(value) for value in values]


def key(value: object, what: str) -> str:
    """An event, stream or topic key: any string without NUL characters (the empty one included)."""
    if not isinstance(value, str):
        raise DBOSInvalidArgumentError(f"Invalid {what} {value!r}: it must be a string")
    return _without_nul(value, what)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def seconds(value: object, what: str) -> float:
    """A finite number of seconds; a negative one means no time at all (as DBOS: "until a moment already past")."""
    if not _number(value):
        raise DBOSInvalidArgumentError(f"Invalid {what} {value!r}: it must be a finite number of seconds")
    return float(value)  # type: ignore[arg-type]


def positive_seconds(value: object, what: str) -> float:
    """A finite number of seconds greater than zero."""
    if not _number(value) or value <= 0:  # type: ignore[operator]
        raise DBOSInvalidArgumentError(f"Invalid {what} {value!r}: it must be a positive, finite number of seconds")
    return float(value)  # type: ignore[arg-type]


def integer(value: object, what: str, *, minimum: int) -> int:
    """An integer (not a bool) of at least ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise DBOSInvalidArgumentError(f"Invalid {what} {value!r}: it must be an integer of at least {minimum}")
    return value


def known_queue(name: object) -> str:
    """The name of a queue declared in code (``Queue(...)``) or stored in the database (``DBOS.register_queue``)."""
    from .. import conf
    from ..models import DatabaseQueue
    from ..storage import connections as conns
    from ..storage.queues import INTERNAL_QUEUE
    from .registry import discover, registry

    queue = text(name, "queue name")
    if queue in registry.queues or queue == INTERNAL_QUEUE:
        return queue
    alias = conf.get().database
    if conns.run(alias, lambda c: DatabaseQueue.objects.using(alias).filter(name=queue).exists()):
        return queue
    discover()  # a queue declared in an app's workflows module this process has not imported yet
    if queue in registry.queues:
        return queue
    known = sorted(name for name in registry.queues if not name.startswith("_dbos"))
    raise DBOSInvalidArgumentError(
        f"Unknown queue {queue!r}: declare it with Queue({queue!r}) in code or store it with "
        f"DBOS.register_queue({queue!r}). Queues declared in this process: {', '.join(known) or 'none'}"
    )
