"""How the admin shows times, durations, statuses and stored values (never unpickled: see ``describe``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..engine import clock
from ..serialization import describe

# A value longer than this is cut in tables (the workflow's own inputs and outcome get LONG_VALUE).
SHORT_VALUE = 2_000
LONG_VALUE = 100_000
EMPTY = "-"

STATUS_CLASSES = {
    "SUCCESS": "success",
    "ERROR": "error",
    "MAX_RECOVERY_ATTEMPTS_EXCEEDED": "error",
    "CANCELLED": "cancelled",
    "PENDING": "pending",
    "ENQUEUED": "waiting",
    "DELAYED": "waiting",
    "ACTIVE": "success",
    "PAUSED": "cancelled",
    "alive": "success",
    "dead": "error",
}


def now_ms() -> int:
    """The engine's clock, in epoch milliseconds (a test's fake clock included)."""
    return clock.now_ms()


def as_datetime(epoch_ms: int | None) -> datetime | None:
    """An epoch-milliseconds column as an aware datetime."""
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def when(epoch_ms: int | None) -> str:
    """An epoch-milliseconds column in the current time zone, to the second: ``2026-11-23 01:50:12``."""
    moment = as_datetime(epoch_ms)
    if moment is None:
        return EMPTY
    return dateformat.format(timezone.template_localtime(moment), "Y-m-d H:i:s")


def ago(epoch_ms: int | None) -> str:
    """How long ago an epoch-milliseconds instant was: ``12.3 s ago``, ``4 min 5 s ago``."""
    if epoch_ms is None:
        return EMPTY
    return f"{duration(now_ms() - epoch_ms)} ago"


def duration(milliseconds: int | None) -> str:
    """A duration for people: ``850 ms``, ``12.3 s``, ``4 min 5 s``, ``2 h 3 min``, ``3 d 4 h``."""
    if milliseconds is None:
        return EMPTY
    milliseconds = max(milliseconds, 0)
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def status_badge(status: str) -> SafeString:
    """A status as a coloured label."""
    css = STATUS_CLASSES.get(status, "waiting")
    return format_html('<span class="dbos-status dbos-status-{}">{}</span>', css, status)


def value_text(text: str | None, limit: int = SHORT_VALUE) -> str:
    """A stored value as indented JSON, or a placeholder for a pickled object; cut after ``limit``."""
    shown = describe(text)
    if len(shown) > limit:
        return shown[:limit] + f"\n… ({len(shown) - limit:,} more characters)"
    return shown


def value_block(text: str | None, limit: int = SHORT_VALUE) -> SafeString:
    """A stored value as an escaped ``<pre>`` block."""
    if text is None:
        return format_html('<span class="dbos-muted">{}</span>', EMPTY)
    return format_html('<pre class="dbos-value">{}</pre>', value_text(text, limit))


def short_version(version: str | None) -> SafeString | str:
    """An application version, cut to 10 characters (the whole one in the tooltip)."""
    if not version:
        return EMPTY
    if len(version) <= 10:
        return version
    return format_html('<span title="{}">{}…</span>', version, version[:8])


def summary(workflow: Any) -> dict[str, Any]:
    """What a template needs to show a workflow in a list: its id, name and status label."""
    return {"pk": workflow.pk, "name": workflow.name, "badge": status_badge(workflow.status)}
