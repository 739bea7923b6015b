"""Django settings of the chaos soak: PostgreSQL at ``CHAOS_DATABASE_URL``, heartbeats fast enough to see kills."""

from __future__ import annotations

import os

import environ

SECRET_KEY = "dbos-django-chaos-not-secret"
DEBUG = False  # DEBUG=True would keep every query in memory
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["dbos_django", "chaos.chaosapp"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {"default": environ.Env.db_url_config(os.environ.get("CHAOS_DATABASE_URL",
                                                                 "postgres://postgres@127.0.0.1:5432/dbos_chaos"))}
# Persistent connections: a restart of PostgreSQL breaks them all at once, which is the point.
DATABASES["default"]["CONN_MAX_AGE"] = 600

DBOS = {
    "APPLICATION_NAME": "chaos",
    # Pinned: the soak (which enqueues without launching) and every worker agree on it.
    "APPLICATION_VERSION": "chaos-1",
    # A killed worker's workflows are taken over within seconds, so recovery happens many times per run.
    "HEARTBEAT_INTERVAL": 1.0,
    "WORKER_TIMEOUT": 5.0,
    "POLLING_INTERVAL": 0.5,
    # Workers log warnings and errors only (not a line per workflow): the soak reads their logs.
    "LOG_LEVEL": "WARNING",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(process)d %(threadName)s %(levelname)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"dbos_django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False}},
}
