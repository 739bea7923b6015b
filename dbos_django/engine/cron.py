"""Cron ticks, computed on local wall-clock time and placed in time zone-aware instants.

Ticks are enumerated on naive local times (croniter), then each is placed in its zone with
``fold=0``: a time that occurs twice when clocks go back fires once (at its first occurrence),
a time that does not exist when clocks go forward fires at the same instant as the hour after
it, and ticks that land on the same instant collapse into one. As classic cron does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from ..error import DBOSInvalidArgumentError


def has_seconds(expression: str) -> bool:
    return len(expression.split()) == 6


def validate(expression: str, what: str) -> None:
    """Raise ``DBOSInvalidArgumentError`` (a ``ValueError``) naming ``what`` unless ``expression`` has 5 or 6 fields."""
    fields = expression.split() if isinstance(expression, str) else []
    if len(fields) not in (5, 6) or not croniter.is_valid(expression, second_at_beginning=len(fields) == 6):
        raise DBOSInvalidArgumentError(f"Invalid cron expression {expression!r} for {what}: use 5 fields, or 6 with seconds first")


def checked_zone(name: object, what: str) -> ZoneInfo:
    """The time zone ``name`` (None: ``TIME_ZONE``); raise ``DBOSInvalidArgumentError`` naming ``what`` if unknown."""
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise DBOSInvalidArgumentError(f"Invalid time zone {name!r} for {what}: give an IANA name such as 'Europe/Paris'")
    try:
        return zone(name)
    except (ValueError, LookupError, OSError) as exc:  # not found: KeyError; a path: ValueError; a folder: OSError
        raise DBOSInvalidArgumentError(f"Unknown time zone {name!r} for {what}: give an IANA name such as "
                                       "'Europe/Paris'") from exc  # fmt: skip


def zone(name: str | None) -> ZoneInfo:
    from django.conf import settings

    return ZoneInfo(name or getattr(settings, "TIME_ZONE", None) or "UTC")


def ticks_after(expression: str, tz: ZoneInfo, after_ms: int) -> Iterator[datetime]:
    """The ticks strictly after ``after_ms``, in order, as aware datetimes in ``tz`` (an endless iterator)."""
    start = datetime.fromtimestamp(after_ms / 1000, tz=UTC).astimezone(tz).replace(tzinfo=None)
    naive = croniter(expression, start, second_at_beginning=has_seconds(expression))
    last = after_ms
    while True:
        local = naive.get_next(datetime).replace(tzinfo=tz, fold=0)
        instant = int(local.timestamp() * 1000)
        if instant > last:  # skips repeats (two wall-clock times on one instant, or before the start)
            last = instant
            yield local.astimezone(UTC).astimezone(tz)  # normalizes a time in a gap


def due(expression: str, tz: ZoneInfo, after_ms: int, until_ms: int, limit: int) -> list[datetime]:
    """Up to ``limit`` ticks in ``(after_ms, until_ms]``, oldest first."""
    found: list[datetime] = []
    for tick in ticks_after(expression, tz, after_ms):
        if int(tick.timestamp() * 1000) > until_ms or len(found) >= limit:
            break
        found.append(tick)
    return found


def workflow_id(schedule_name: str, tick: datetime) -> str:
    """One id per schedule and tick, the same in every process: a tick two workers both see runs once."""
    return f"sched-{schedule_name}-{tick.astimezone(UTC).isoformat()}"


def latest(expression: str, tz: ZoneInfo, after_ms: int, until_ms: int) -> datetime | None:
    """The most recent tick in ``(after_ms, until_ms]``, if any (without walking every tick since)."""
    end = datetime.fromtimestamp(until_ms / 1000, tz=UTC).astimezone(tz).replace(tzinfo=None, microsecond=0)
    # get_prev is strictly before its start: start a second later so a tick at ``until_ms`` counts.
    naive = croniter(expression, end + timedelta(seconds=1), second_at_beginning=has_seconds(expression))
    for _ in range(3):  # a gap can move a tick past ``until_ms``: look one or two earlier
        local = naive.get_prev(datetime).replace(tzinfo=tz, fold=0)
        instant = int(local.timestamp() * 1000)
        if instant <= until_ms:
            return local.astimezone(UTC).astimezone(tz) if instant > after_ms else None
    return None
