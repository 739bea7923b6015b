"""Test settings: SQLite (a file, so threads and processes share it) unless DATABASE_URL is set."""

import os
import tempfile

from example_project.settings import *  # noqa: F403
from example_project.settings import BASE_DIR, DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.app"]
TEST_SQLITE = os.environ.get("DBOS_TEST_SQLITE", os.path.join(tempfile.gettempdir(), f"dbos-test-{os.getpid()}.sqlite3"))
if "DATABASE_URL" not in os.environ:
    DATABASES["default"]["NAME"] = str(BASE_DIR / ".test-db.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": TEST_SQLITE}
else:
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("DBOS_TEST_PG_NAME", "test_dbos_django")}
DATABASES["default"]["CONN_MAX_AGE"] = 0
DBOS = {"APPLICATION_NAME": "tests", "POLLING_INTERVAL": 0.05}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A subprocess started by a test (crash tests) uses the test database directly.
if os.environ.get("DBOS_USE_TEST_DB"):
    DATABASES["default"]["NAME"] = os.environ["DBOS_USE_TEST_DB"]

# The second connection that checkpoints a workflow called inside an open transaction (PostgreSQL):
# declared so that tests may list it in `databases`; in tests it mirrors the test database.
DATABASES["default__dbos_checkpoints"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}

# Worker processes started by tests/test_workers.py: faster heartbeats, so a dead worker is found in seconds.
for _key, _variable in (("HEARTBEAT_INTERVAL", "DBOS_TEST_HEARTBEAT"), ("WORKER_TIMEOUT", "DBOS_TEST_WORKER_TIMEOUT")):
    if os.environ.get(_variable):
        DBOS[_key] = float(os.environ[_variable])

# A pinned application version, for tests that compare a worker process with the test process.
if os.environ.get("DBOS_TEST_APPLICATION_VERSION"):
    DBOS["APPLICATION_VERSION"] = os.environ["DBOS_TEST_APPLICATION_VERSION"]

# Django's task framework: built in from Django 6.0, the django-tasks backport (the `tasks` extra) before.
try:
    import django.tasks  # noqa: F401
except ImportError:
    try:
        import django_tasks  # noqa: F401
    except ImportError:
        TASK_API = False
    else:
        TASK_API = True
else:
    TASK_API = True
if TASK_API:
    TASKS = {"default": {"BACKEND": "dbos_django.tasks.DBOSTaskBackend", "QUEUES": ["default", "emails"]}}
