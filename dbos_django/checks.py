"""System checks: ``manage.py check`` tells what is wrong with the DBOS setup, and how to fix it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from . import conf

SQLITE_OPTIONS_HINT = (
    'Set DATABASES[{alias!r}]["OPTIONS"] = {{"init_command": "PRAGMA journal_mode=WAL;", '
    '"transaction_mode": "IMMEDIATE", "timeout": 20}} so several threads and processes can write.'
)


@register(Tags.database, "dbos")
def check_dbos_setting(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Report each bad entry of ``settings.DBOS``."""
    raw = getattr(settings, "DBOS", {}) or {}
    if not isinstance(raw, dict):
        return [Error("settings.DBOS must be a dict.", hint='For example DBOS = {"APPLICATION_NAME": "shop"}',
                      id="dbos_django.E001")]  # fmt: skip
    errors = [
        Error(f"Invalid DBOS setting {key}: {msg}.", hint="See the DBOS setting in docs/configuration.md.",
              id="dbos_django.E001")
        for key, msg in conf.problems(raw)
    ]  # fmt: skip
    alias = raw.get("DATABASE", conf.DEFAULTS["DATABASE"])
    if isinstance(alias, str) and alias not in settings.DATABASES:
        errors.append(Error(f"DBOS['DATABASE'] names {alias!r}, which is not in settings.DATABASES.",
                            hint=f"Use one of: {', '.join(settings.DATABASES)}.", id="dbos_django.E002"))  # fmt: skip
    return errors


@register(Tags.database, "dbos")
def check_sqlite_concurrency(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when the SQLite database lacks WAL, IMMEDIATE transactions or a busy timeout."""
    raw = getattr(settings, "DBOS", {}) or {}
    alias = raw.get("DATABASE", "default") if isinstance(raw, dict) else "default"
    db = settings.DATABASES.get(alias) if isinstance(alias, str) else None
    if not db or "sqlite" not in db.get("ENGINE", ""):
        return []
    options = db.get("OPTIONS", {})
    hint = SQLITE_OPTIONS_HINT.format(alias=alias)
    found = []
    if "journal_mode=wal" not in options.get("init_command", "").replace(" ", "").lower():
        found.append(Warning(f"SQLite database {alias!r} does not use WAL journal mode: readers and the "
                             "worker will block each other.", hint=hint, id="dbos_django.W001"))  # fmt: skip
    if str(options.get("transaction_mode", "")).upper() != "IMMEDIATE":
        found.append(Warning(f"SQLite database {alias!r} does not use transaction_mode IMMEDIATE: concurrent "
                             "transactions fail with 'database is locked'.", hint=hint, id="dbos_django.W002"))  # fmt: skip
    if not options.get("timeout"):
        found.append(Warning(f"SQLite database {alias!r} has no busy timeout: a writer waiting for the lock "
                             "fails at once.", hint=hint, id="dbos_django.W003"))  # fmt: skip
    return found
