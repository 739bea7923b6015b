"""Settings of the example project. ``DATABASE_URL`` picks the database; SQLite by default."""

from pathlib import Path

import django
import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dbos-django-example-not-secret")
DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dbos_django",
    "example_project.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "example_project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# SQLite set up for several threads and processes: WAL, IMMEDIATE transactions, a busy timeout.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", 600)
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}

DBOS = {
    "APPLICATION_NAME": "example",
    "EXECUTOR_ID": env("DBOS_EXECUTOR_ID", default="local"),
    # Pinned: a deploy that does not change how workflows replay keeps running the ones in flight.
    "APPLICATION_VERSION": env("DBOS_APPLICATION_VERSION", default="1"),
}

# Django's task framework (built in from Django 6.0; on 5.2 the backport: pip install "dbos-django[tasks]"),
# each task a durable workflow run by `manage.py dbos_worker`.
TASKS = {
    "default": {
        "BACKEND": "dbos_django.tasks.DBOSTaskBackend",
        "QUEUES": ["default", "emails"],
        "OPTIONS": {"QUEUE_OPTIONS": {"emails": {"worker_concurrency": 2}}},
    }
}
# E-mail goes to the console (the worker's output): Django 6.1's MAILERS, or EMAIL_BACKEND before it.
_EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND}}
else:
    EMAIL_BACKEND = _EMAIL_BACKEND
DEFAULT_FROM_EMAIL = "shop@example.com"

# The shop's knobs (environment variables, so `make demo` and the tests can turn them).
SHOP_PAYMENT_TIMEOUT_SECONDS = env.float("SHOP_PAYMENT_TIMEOUT_SECONDS", default=120.0)
SHOP_GATEWAY_FAILURE_RATE = env.float("SHOP_GATEWAY_FAILURE_RATE", default=0.2)
SHOP_PACKING_SECONDS = env.float("SHOP_PACKING_SECONDS", default=0.5)
SHOP_WEBHOOK_SECRET = env("SHOP_WEBHOOK_SECRET", default="whsec-demo-not-secret")
# The crash lab kills the worker: only under `make demo`, which restarts it.
SHOP_CRASH_LAB = env.bool("SHOP_CRASH_LAB", default=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "dbos_django": {"handlers": ["console"], "level": env("DBOS_LOG_LEVEL", default="WARNING")},
        "django.tasks": {"handlers": ["console"], "level": env("TASKS_LOG_LEVEL", default="INFO"), "propagate": False},
    },
}
