"""The ``DBOS`` setting, read through one typed object.

    DBOS = {
        "APPLICATION_NAME": "shop",        # owner name written on every workflow row
        "APPLICATION_VERSION": None,        # None: a hash of the registered workflows' source
        "EXECUTOR_ID": "local",             # which process owns PENDING workflows for recovery
        "DATABASE": "default",              # the alias holding the system tables
        "MAX_THREADS": 64,                  # bound of the thread pool running workflows
        "SERIALIZER": "json+pickle",        # or "json", or a dotted path to a Serializer class
        "POLLING_INTERVAL": 1.0,            # seconds between polls when waiting on another process
        "HEARTBEAT_INTERVAL": 5.0,          # seconds between two heartbeats of a worker
        "WORKER_TIMEOUT": 60.0,             # a worker silent this long is dead: its workflows are recovered
        "LOG_LEVEL": None,                  # level of the "dbos_django" logger, if set
        "ENABLE_PATCHING": False,           # DBOS.patch(): one version for every deploy, branches by patch
        "MAX_PAYLOAD_BYTES": 4194304,       # largest serialized value stored (inputs, outputs, messages...); None: no limit
    }

``DBOS(config={...})`` (DBOS's own way) overrides these until ``DBOS.destroy()``.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .serialization import DefaultSerializer, JSONSerializer, Serializer

APP_NAME_RE = re.compile(r"[a-z0-9-_]{3,30}")

DEFAULTS: dict[str, Any] = {
    "APPLICATION_NAME": "django",
    "APPLICATION_VERSION": None,
    "EXECUTOR_ID": "local",
    "DATABASE": "default",
    "MAX_THREADS": 64,
    "SERIALIZER": "json+pickle",
    "POLLING_INTERVAL": 1.0,
    "HEARTBEAT_INTERVAL": 5.0,
    "WORKER_TIMEOUT": 60.0,
    "LOG_LEVEL": None,
    "ENABLE_PATCHING": False,
    "MAX_PAYLOAD_BYTES": 4 * 1024 * 1024,
}
PATCHING_VERSION = "PATCHING_ENABLED"


class DBOSCompatibilityWarning(UserWarning):
    """A DBOS configuration key that dbos_django ignores or does not implement."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DBOSSettings:
    """The validated ``DBOS`` setting."""

    application_name: str
    application_version: str | None
    executor_id: str
    database: str
    max_threads: int
    serializer: Serializer = field(compare=False)
    polling_interval: float
    heartbeat_interval: float
    worker_timeout: float
    log_level: str | None
    enable_patching: bool = False
    max_payload_bytes: int | None = DEFAULTS["MAX_PAYLOAD_BYTES"]

    def version(self) -> str:
        """The application version: pinned, or DBOS's for patching, or a hash of the workflows' source."""
        if self.application_version:
            return self.application_version
        if self.enable_patching:
            return PATCHING_VERSION
        from .engine.registry import registry

        return registry.source_hash(self.application_name)


def _serializer(value: Any) -> Serializer:
    if isinstance(value, Serializer):
        return value
    if value == "json+pickle":
        return DefaultSerializer()
    if value == "json":
        return JSONSerializer()
    if isinstance(value, str) and "." in value:
        obj = import_string(value)
        obj = obj() if isinstance(obj, type) else obj
        if not isinstance(obj, Serializer):
            raise ValueError(f"SERIALIZER {value!r} is not a dbos_django.Serializer")
        return obj
    raise ValueError(f"SERIALIZER must be 'json+pickle', 'json' or a dotted path to a Serializer, not {value!r}")


def problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """List ``(key, message)`` for every invalid entry of a raw ``DBOS`` dict."""
    found: list[tuple[str, str]] = []
    for key in raw:
        if key not in DEFAULTS:
            found.append((key, f"unknown key {key!r}; known keys: {', '.join(DEFAULTS)}"))
    merged = {**DEFAULTS, **raw}
    name = merged["APPLICATION_NAME"]
    if not isinstance(name, str) or not APP_NAME_RE.fullmatch(name):
        found.append(("APPLICATION_NAME", f"{name!r} must match {APP_NAME_RE.pattern}"))
    for key in ("EXECUTOR_ID", "DATABASE"):
        if not isinstance(merged[key], str) or not merged[key].strip():
            found.append((key, f"must be a non-empty string, not {merged[key]!r}"))
    version = merged["APPLICATION_VERSION"]
    if version is not None and (not isinstance(version, str) or not version.strip()):
        found.append(("APPLICATION_VERSION", f"must be None or a non-empty string, not {version!r}"))
    threads = merged["MAX_THREADS"]
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        found.append(("MAX_THREADS", f"must be a positive integer, not {threads!r}"))
    for key in ("POLLING_INTERVAL", "HEARTBEAT_INTERVAL", "WORKER_TIMEOUT"):
        interval = merged[key]
        if not isinstance(interval, (int, float)) or isinstance(interval, bool) or not 0 < interval < math.inf:
            found.append((key, f"must be a positive number of seconds, not {interval!r}"))
    if not found and merged["WORKER_TIMEOUT"] <= 2 * merged["HEARTBEAT_INTERVAL"]:
        found.append(("WORKER_TIMEOUT", "must be more than twice HEARTBEAT_INTERVAL, or live workers look dead"))
    try:
        _serializer(merged["SERIALIZER"])
    except Exception as exc:
        found.append(("SERIALIZER", str(exc)))
    if not isinstance(merged["ENABLE_PATCHING"], bool):
        found.append(("ENABLE_PATCHING", f"must be True or False, not {merged['ENABLE_PATCHING']!r}"))
    limit = merged["MAX_PAYLOAD_BYTES"]
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        found.append(("MAX_PAYLOAD_BYTES", f"must be None (no limit) or a positive number of bytes, not {limit!r}"))
    level = merged["LOG_LEVEL"]
    if level is not None and level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        found.append(("LOG_LEVEL", f"must be None or a logging level name, not {level!r}"))
    return found


_overrides: dict[str, Any] = {}
_cached: DBOSSettings | None = None


def raw_settings() -> dict[str, Any]:
    """The ``DBOS`` dict from Django settings with the ``DBOS(config=...)`` overrides on top."""
    value = getattr(django_settings, "DBOS", {}) or {}
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"settings.DBOS must be a dict, not {type(value).__name__}")
    return {**value, **_overrides}


def get() -> DBOSSettings:
    """Return the validated settings; raise ``ImproperlyConfigured`` naming each bad key."""
    global _cached
    if _cached is None:
        raw = raw_settings()
        found = problems(raw)
        if found:
            raise ImproperlyConfigured(
                "Invalid DBOS setting: " + "; ".join(f"{key}: {msg}" for key, msg in found)
            )
        merged = {**DEFAULTS, **raw}
        _cached = DBOSSettings(
            application_name=merged["APPLICATION_NAME"],
            application_version=merged["APPLICATION_VERSION"],
            executor_id=merged["EXECUTOR_ID"],
            database=merged["DATABASE"],
            max_threads=merged["MAX_THREADS"],
            serializer=_serializer(merged["SERIALIZER"]),
            polling_interval=float(merged["POLLING_INTERVAL"]),
            heartbeat_interval=float(merged["HEARTBEAT_INTERVAL"]),
            worker_timeout=float(merged["WORKER_TIMEOUT"]),
            log_level=merged["LOG_LEVEL"],
            enable_patching=merged["ENABLE_PATCHING"],
            max_payload_bytes=merged["MAX_PAYLOAD_BYTES"],
        )
    return _cached


def reset() -> None:
    global _cached
    _cached = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("DBOS", "DATABASES"):
        reset()


# DBOS's DBOSConfig keys: where each lands here, or why it does not.
CONFIG_KEYS: dict[str, str] = {
    "name": "APPLICATION_NAME",
    "application_version": "APPLICATION_VERSION",
    "executor_id": "EXECUTOR_ID",
    "max_executor_threads": "MAX_THREADS",
    "serializer": "SERIALIZER",
    "notification_listener_polling_interval_sec": "POLLING_INTERVAL",
    "log_level": "LOG_LEVEL",
    "enable_patching": "ENABLE_PATCHING",
}
DATABASE_URL_KEYS = ("system_database_url", "application_database_url", "database_url")
UNIMPLEMENTED_KEYS = frozenset(
    {
        "sys_db_pool_size", "sys_db_polling_concurrency", "db_engine_kwargs", "system_database_engine",
        "dbos_system_schema", "use_listen_notify", "run_migrations", "notification_coalesce_sec",
        "scheduler_polling_interval_sec", "kafka_queue_polling_interval_sec",
        "console_log_level", "otlp_log_level", "enable_otlp", "otlp_traces_endpoints",
        "otlp_logs_endpoints", "otlp_attributes", "otel_attribute_format", "admin_port",
        "run_admin_server", "conductor_key", "conductor_url", "conductor_executor_metadata",
    }
)  # fmt: skip


def apply_dbos_config(config: dict[str, Any]) -> None:
    """Map a DBOS ``DBOSConfig`` dict onto overrides; warn on what is ignored, raise on unknown keys."""
    unknown = [k for k in config if k not in CONFIG_KEYS and k not in DATABASE_URL_KEYS and k not in UNIMPLEMENTED_KEYS]
    if unknown:
        from .error import DBOSInitializationError

        raise DBOSInitializationError(f"unknown DBOS config key(s): {', '.join(sorted(unknown))}")
    overrides = {CONFIG_KEYS[k]: v for k, v in config.items() if k in CONFIG_KEYS}
    found = problems(overrides)
    if found:
        from .error import DBOSInitializationError

        config_key = {setting: key for key, setting in CONFIG_KEYS.items()}
        raise DBOSInitializationError("; ".join(f"{key}: {msg} (DBOS config key {config_key.get(key, key)!r})"
                                                for key, msg in found))  # fmt: skip
    alias = overrides.get("DATABASE", raw_settings().get("DATABASE", DEFAULTS["DATABASE"]))
    for key in DATABASE_URL_KEYS:
        if config.get(key):
            db_name = django_settings.DATABASES.get(alias, {}).get("NAME")
            warnings.warn(
                f"DBOS config key {key!r} is ignored: dbos_django uses Django's database {alias!r} "
                f"({db_name}) from settings.DATABASES",
                DBOSCompatibilityWarning,
                stacklevel=3,
            )
    for key in sorted(k for k in config if k in UNIMPLEMENTED_KEYS):
        warnings.warn(f"DBOS config key {key!r} is not implemented by dbos_django and is ignored",
                      DBOSCompatibilityWarning, stacklevel=3)  # fmt: skip
    _overrides.clear()
    _overrides.update(overrides)
    reset()


def set_overrides(values: dict[str, Any]) -> None:
    """Override settings keys (the worker's command-line options) until ``clear_dbos_config()``."""
    _overrides.update(values)
    reset()


def clear_dbos_config() -> None:
    _overrides.clear()
    reset()
