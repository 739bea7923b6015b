"""System checks: ``manage.py check`` tells what is wrong with the DBOS setup, and how to fix it."""

from __future__ import annotations

import os
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.core.checks import CheckMessage, run_checks
from django.test import override_settings

from dbos_django import checks
from tests.conftest import PYTHON, ROOT

GOOD_SQLITE_OPTIONS: dict[str, Any] = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
POSTGRES: dict[str, Any] = {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}


def sqlite(**options: Any) -> dict[str, Any]:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": "shop.sqlite3", "OPTIONS": options}


@contextmanager
def databases(aliases: dict[str, dict[str, Any]], dbos: dict[str, Any] | None = None) -> Iterator[None]:
    """Run with these ``DATABASES`` and ``DBOS`` (no connection is opened: the checks only read settings)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Overriding setting DATABASES can lead to unexpected behavior", UserWarning)
        with override_settings(DATABASES=aliases, DBOS=dbos or {}):
            yield


def dbos_checks() -> list[CheckMessage]:
    """The messages of the checks registered under the ``dbos`` tag."""
    messages: list[CheckMessage] = run_checks(tags=["dbos"])
    return messages


def ids(messages: list[CheckMessage]) -> list[str]:
    return sorted(str(m.id) for m in messages)


# The DBOS setting


def test_the_test_settings_pass_the_dbos_checks() -> None:
    assert dbos_checks() == []


def test_a_bad_DBOS_setting_is_error_E001_naming_the_key_with_a_hint() -> None:
    with override_settings(DBOS={"MAX_THREADS": 0}):
        [error] = dbos_checks()
    assert error.id == "dbos_django.E001"
    assert error.is_serious()
    assert "Invalid DBOS setting MAX_THREADS: must be a positive integer" in error.msg
    assert error.hint == "See the DBOS setting in docs/configuration.md."


def test_each_bad_key_is_its_own_E001() -> None:
    with override_settings(DBOS={"APPLICATION_NAME": "Shop", "LOG_LEVEL": "LOUD", "TYPO": 1}):
        messages = dbos_checks()
    assert ids(messages) == ["dbos_django.E001"] * 3
    for key in ("APPLICATION_NAME", "LOG_LEVEL", "TYPO"):
        assert any(key in m.msg for m in messages), key


def test_a_DBOS_setting_that_is_not_a_dict_is_E001_with_an_example_hint() -> None:
    with override_settings(DBOS="shop"):
        [error] = dbos_checks()
    assert (error.id, error.msg) == ("dbos_django.E001", "settings.DBOS must be a dict.")
    assert error.hint == 'For example DBOS = {"APPLICATION_NAME": "shop"}'


def test_a_DATABASE_alias_missing_from_DATABASES_is_error_E002_listing_the_aliases() -> None:
    with override_settings(DBOS={"DATABASE": "dbos"}):
        [error] = dbos_checks()
    assert error.id == "dbos_django.E002"
    assert error.is_serious()
    assert error.msg == "DBOS['DATABASE'] names 'dbos', which is not in settings.DATABASES."
    assert error.hint == f"Use one of: {', '.join(settings.DATABASES)}."
    assert "default" in settings.DATABASES


def test_the_check_functions_can_be_called_directly() -> None:
    with override_settings(DBOS={"MAX_THREADS": 0, "DATABASE": "dbos"}):
        assert ids(checks.check_dbos_setting()) == ["dbos_django.E001", "dbos_django.E002"]


# SQLite concurrency


def test_a_well_configured_sqlite_database_has_no_warnings() -> None:
    with databases({"default": sqlite(**GOOD_SQLITE_OPTIONS)}):
        assert dbos_checks() == []


def test_a_postgresql_database_has_no_warnings() -> None:
    with databases({"default": POSTGRES}):
        assert dbos_checks() == []


def test_a_sqlite_database_without_options_has_all_three_warnings() -> None:
    with databases({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "shop.sqlite3"}}):
        messages = dbos_checks()
    assert ids(messages) == ["dbos_django.W001", "dbos_django.W002", "dbos_django.W003"]
    assert not any(m.is_serious() for m in messages)


@pytest.mark.parametrize(
    ("missing", "warning", "text"),
    [
        ("init_command", "dbos_django.W001", "does not use WAL journal mode"),
        ("transaction_mode", "dbos_django.W002", "does not use transaction_mode IMMEDIATE"),
        ("timeout", "dbos_django.W003", "has no busy timeout"),
    ],
)
def test_each_missing_sqlite_option_is_its_own_warning(missing: str, warning: str, text: str) -> None:
    options = {k: v for k, v in GOOD_SQLITE_OPTIONS.items() if k != missing}
    with databases({"default": sqlite(**options)}):
        [message] = dbos_checks()
    assert message.id == warning
    assert f"SQLite database 'default' {text}" in message.msg


def test_a_sqlite_warning_hint_gives_the_options_to_set_for_that_alias() -> None:
    with databases({"default": sqlite()}):
        message = dbos_checks()[0]
    assert message.hint == checks.SQLITE_OPTIONS_HINT.format(alias="default")
    assert message.hint.startswith("Set DATABASES['default'][\"OPTIONS\"] = ")
    for option in ('"init_command": "PRAGMA journal_mode=WAL;"', '"transaction_mode": "IMMEDIATE"', '"timeout": 20'):
        assert option in message.hint


def test_a_journal_mode_other_than_WAL_is_W001() -> None:
    with databases({"default": sqlite(**{**GOOD_SQLITE_OPTIONS, "init_command": "PRAGMA journal_mode=DELETE;"})}):
        assert ids(dbos_checks()) == ["dbos_django.W001"]


def test_WAL_is_recognized_in_any_case_and_spacing() -> None:
    with databases({"default": sqlite(**{**GOOD_SQLITE_OPTIONS, "init_command": "pragma journal_mode = wal"})}):
        assert dbos_checks() == []


def test_transaction_mode_is_compared_case_insensitively() -> None:
    with databases({"default": sqlite(**{**GOOD_SQLITE_OPTIONS, "transaction_mode": "immediate"})}):
        assert dbos_checks() == []


@pytest.mark.parametrize("mode", ["DEFERRED", "EXCLUSIVE"])
def test_a_transaction_mode_other_than_IMMEDIATE_is_W002(mode: str) -> None:
    with databases({"default": sqlite(**{**GOOD_SQLITE_OPTIONS, "transaction_mode": mode})}):
        assert ids(dbos_checks()) == ["dbos_django.W002"]


def test_a_zero_timeout_is_W003() -> None:
    with databases({"default": sqlite(**{**GOOD_SQLITE_OPTIONS, "timeout": 0})}):
        assert ids(dbos_checks()) == ["dbos_django.W003"]


def test_the_sqlite_checks_look_at_the_DBOS_database_alias() -> None:
    with databases({"default": POSTGRES, "dbos": sqlite()}, dbos={"DATABASE": "dbos"}):
        messages = dbos_checks()
    assert ids(messages) == ["dbos_django.W001", "dbos_django.W002", "dbos_django.W003"]
    assert all("SQLite database 'dbos'" in m.msg for m in messages)


def test_a_badly_configured_sqlite_default_is_not_reported_when_DBOS_uses_another_alias() -> None:
    with databases({"default": sqlite(), "dbos": POSTGRES}, dbos={"DATABASE": "dbos"}):
        assert dbos_checks() == []


# The example project


def test_manage_py_check_passes_clean_for_the_example_project() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [PYTHON, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert result.stderr == ""
