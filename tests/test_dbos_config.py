"""``DBOS(config={...})``: DBOS's own configuration, mapped onto the ``DBOS`` setting until ``DBOS.destroy()``."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from pytest_django import Settings

from dbos_django import DBOS, DBOSConfig, conf
from dbos_django.conf import DBOSCompatibilityWarning
from dbos_django.error import DBOSInitializationError
from dbos_django.serialization import JSONSerializer, Serializer


class TaggedSerializer(Serializer):
    def name(self) -> str:
        return "tagged"


@pytest.fixture(autouse=True)
def destroy_dbos() -> Iterator[None]:
    """``DBOS(config=...)`` lasts until ``DBOS.destroy()``: never let it leak into other tests."""
    yield
    DBOS.destroy()


# Each accepted key: (DBOS config key, value, attribute of conf.get(), value read back).
SERIALIZER = TaggedSerializer()
MAPPED: list[tuple[str, Any, str, Any]] = [
    ("name", "shop", "application_name", "shop"),
    ("application_version", "v7", "application_version", "v7"),
    ("executor_id", "exec-9", "executor_id", "exec-9"),
    ("max_executor_threads", 3, "max_threads", 3),
    ("serializer", SERIALIZER, "serializer", SERIALIZER),
    ("notification_listener_polling_interval_sec", 0.25, "polling_interval", 0.25),
    ("log_level", "DEBUG", "log_level", "DEBUG"),
    ("enable_patching", True, "enable_patching", True),
]


def test_every_accepted_key_has_a_mapping_test() -> None:
    assert {key for key, *_ in MAPPED} == set(conf.CONFIG_KEYS)


@pytest.mark.parametrize(("key", "value", "attribute", "expected"), MAPPED, ids=[m[0] for m in MAPPED])
def test_an_accepted_key_overrides_its_setting(key: str, value: Any, attribute: str, expected: Any) -> None:
    assert getattr(conf.get(), attribute) != expected
    DBOS(config={key: value})
    assert getattr(conf.get(), attribute) == expected


@pytest.mark.parametrize(("key", "value", "attribute", "expected"), MAPPED, ids=[m[0] for m in MAPPED])
def test_an_accepted_key_lasts_until_destroy(key: str, value: Any, attribute: str, expected: Any) -> None:
    before = conf.get()
    DBOS(config={key: value})
    DBOS.destroy()
    assert getattr(conf.get(), attribute) != expected
    assert conf.get() == before


def test_name_becomes_APPLICATION_NAME() -> None:
    assert conf.CONFIG_KEYS["name"] == "APPLICATION_NAME"
    DBOS(config={"name": "shop"})
    assert conf.raw_settings()["APPLICATION_NAME"] == "shop"


def test_executor_id_is_what_DBOS_executor_id_reports() -> None:
    DBOS(config={"executor_id": "exec-9"})
    assert DBOS.executor_id == "exec-9"


def test_application_version_is_what_DBOS_application_version_reports() -> None:
    DBOS(config={"application_version": "v7"})
    assert DBOS.application_version == "v7"


def test_serializer_may_be_named_like_the_SERIALIZER_setting() -> None:
    DBOS(config={"serializer": "json"})
    assert type(conf.get().serializer) is JSONSerializer


def test_keys_not_given_keep_the_values_of_settings_DBOS(settings: Settings) -> None:
    settings.DBOS = {"APPLICATION_NAME": "tests", "EXECUTOR_ID": "from-settings", "POLLING_INTERVAL": 0.05}
    DBOS(config={"name": "shop"})
    dbos = conf.get()
    assert (dbos.application_name, dbos.executor_id, dbos.polling_interval) == ("shop", "from-settings", 0.05)


def test_the_config_still_wins_after_settings_DBOS_changes(settings: Settings) -> None:
    DBOS(config={"name": "shop"})
    settings.DBOS = {"APPLICATION_NAME": "changed", "EXECUTOR_ID": "changed"}
    assert (conf.get().application_name, conf.get().executor_id) == ("shop", "changed")


def test_DBOS_without_config_keeps_the_settings() -> None:
    before = conf.get()
    DBOS()
    DBOS(config=None)
    assert conf.get() == before


def test_the_DBOSConfig_type_lists_only_keys_DBOS_accepts() -> None:
    keys = DBOSConfig.__required_keys__ | DBOSConfig.__optional_keys__
    assert keys <= set(conf.CONFIG_KEYS) | set(conf.DATABASE_URL_KEYS)


# Database URLs: Django's DATABASES decides


@pytest.mark.parametrize("key", conf.DATABASE_URL_KEYS)
def test_a_database_url_is_ignored_with_a_warning_naming_the_django_database(key: str) -> None:
    used = connections["default"].settings_dict["NAME"]
    with pytest.warns(DBOSCompatibilityWarning) as record:
        DBOS(config={"name": "shop", key: "postgresql://elsewhere:5432/other"})
    [warning] = record
    message = str(warning.message)
    assert f"DBOS config key {key!r} is ignored" in message
    assert f"Django's database 'default' ({used})" in message
    assert "elsewhere" not in message


def test_the_database_url_warning_names_the_alias_of_the_DBOS_setting(settings: Settings) -> None:
    settings.DBOS = {"DATABASE": "dbos"}
    with pytest.warns(DBOSCompatibilityWarning, match=re.escape("uses Django's database 'dbos'")):
        DBOS(config={"system_database_url": "sqlite:///other.sqlite3"})


def test_a_database_url_warning_points_at_the_caller() -> None:
    with pytest.warns(DBOSCompatibilityWarning) as record:
        DBOS(config={"system_database_url": "postgresql://elsewhere/other"})
    assert record[0].filename == __file__


def test_the_rest_of_the_config_applies_despite_a_database_url() -> None:
    with pytest.warns(DBOSCompatibilityWarning):
        DBOS(config={"name": "shop", "database_url": "postgresql://elsewhere/other"})
    assert conf.get().application_name == "shop"


@pytest.mark.parametrize("key", conf.DATABASE_URL_KEYS)
def test_an_unset_database_url_is_ignored_silently(key: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DBOS(config={"name": "shop", key: None})
    assert conf.get().application_name == "shop"


# Keys DBOS defines that dbos_django does not implement


@pytest.mark.parametrize("key", sorted(conf.UNIMPLEMENTED_KEYS))
def test_an_unimplemented_key_is_ignored_with_a_warning(key: str) -> None:
    with pytest.warns(DBOSCompatibilityWarning) as record:
        DBOS(config={"name": "shop", key: 1})
    assert [str(w.message) for w in record] == [
        f"DBOS config key {key!r} is not implemented by dbos_django and is ignored"
    ]
    assert record[0].filename == __file__
    assert conf.get().application_name == "shop"


def test_unimplemented_keys_and_accepted_keys_do_not_overlap() -> None:
    assert not conf.UNIMPLEMENTED_KEYS & (set(conf.CONFIG_KEYS) | set(conf.DATABASE_URL_KEYS))


# Mistakes


def test_an_unknown_key_raises_naming_it() -> None:
    with pytest.raises(DBOSInitializationError, match=r"unknown DBOS config key\(s\): nmae"):
        DBOS(config={"nmae": "shop"})


def test_an_unknown_key_applies_nothing() -> None:
    with pytest.raises(DBOSInitializationError):
        DBOS(config={"name": "shop", "nmae": "shop"})
    assert conf.get().application_name == "tests"


def test_all_unknown_keys_are_named_sorted() -> None:
    with pytest.raises(DBOSInitializationError, match=r"unknown DBOS config key\(s\): alpha, zeta"):
        DBOS(config={"zeta": 1, "alpha": 2})


INVALID: list[tuple[str, Any, str]] = [
    ("name", "My Shop", "APPLICATION_NAME"),
    ("application_version", "", "APPLICATION_VERSION"),
    ("executor_id", "", "EXECUTOR_ID"),
    ("max_executor_threads", 0, "MAX_THREADS"),
    ("serializer", "xml", "SERIALIZER"),
    ("notification_listener_polling_interval_sec", -1, "POLLING_INTERVAL"),
    ("log_level", "LOUD", "LOG_LEVEL"),
    ("enable_patching", "yes", "ENABLE_PATCHING"),
]


@pytest.mark.parametrize(("key", "value", "setting"), INVALID, ids=[i[0] for i in INVALID])
def test_an_invalid_value_raises_and_applies_nothing(key: str, value: Any, setting: str) -> None:
    before = conf.get()
    with pytest.raises(DBOSInitializationError, match=f"Error initializing DBOS: {setting}: "):
        DBOS(config={key: value})
    assert conf.get() == before


@pytest.mark.parametrize(("key", "value", "setting"), INVALID[1:], ids=[i[0] for i in INVALID[1:]])
def test_an_invalid_value_error_names_the_config_key_given(key: str, value: Any, setting: str) -> None:
    with pytest.raises(DBOSInitializationError, match=key):
        DBOS(config={key: value})


def test_other_DBOS_constructor_arguments_warn() -> None:
    with pytest.warns(DBOSCompatibilityWarning, match="conductor_key"):
        DBOS(conductor_key="secret")
