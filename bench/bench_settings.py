"""Django settings of the benchmark: ``BENCH_DB`` (postgres|sqlite) and ``BENCH_DB_NAME`` pick the database."""

from __future__ import annotations

import os
from typing import Any

import environ
from benchlib import pg_url

SECRET_KEY = "dbos-django-bench-not-secret"
DEBUG = False  # DEBUG=True would keep every query in memory
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["dbos_django", "benchapp"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_NAME = os.environ["BENCH_DB_NAME"]
_DEFAULT: dict[str, Any]
if os.environ.get("BENCH_DB") == "postgres":
    _DEFAULT = environ.Env.db_url_config(pg_url(_NAME))
else:
    _DEFAULT = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _NAME,
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20},
    }
_DEFAULT["CONN_MAX_AGE"] = 600
DATABASES = {"default": _DEFAULT}

DBOS = {"APPLICATION_NAME": "bench"}
