"""The ``DBOS`` Django setting, read through ``dbos_django.conf.get()``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from pytest_django import Settings

from dbos_django import conf
from dbos_django.serialization import DefaultSerializer, JSONSerializer, Serializer


class ShoutingSerializer(Serializer):
    """A custom serializer, named by dotted path in the tests below."""

    def name(self) -> str:
        return "shouting"

    def serialize(self, value: Any) -> str:
        return str(value).upper()

    def deserialize(self, text: str) -> Any:
        return text.lower()


SHOUTING_INSTANCE = ShoutingSerializer()


class NeedsArguments(Serializer):
    """A serializer class that cannot be built without arguments."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix


def invalid(settings: Settings, **dbos: Any) -> str:
    """Install ``DBOS = dbos``; return the message of the error ``conf.get()`` raises."""
    settings.DBOS = dbos
    with pytest.raises(ImproperlyConfigured) as excinfo:
        conf.get()
    return str(excinfo.value)


# Defaults


@pytest.fixture
def without_dbos_setting(settings: Settings) -> Iterator[None]:
    """No ``DBOS`` setting at all. Deleting a setting sends no ``setting_changed``: reset the cache by hand."""
    del settings.DBOS
    conf.reset()
    yield
    conf.reset()


@pytest.mark.usefixtures("without_dbos_setting")
def test_every_key_has_a_default_when_the_setting_is_absent() -> None:
    dbos = conf.get()
    assert dbos.application_name == "django"
    assert dbos.application_version is None
    assert dbos.executor_id == "local"
    assert dbos.database == "default"
    assert dbos.max_threads == 64
    assert isinstance(dbos.serializer, DefaultSerializer)
    assert dbos.polling_interval == 1.0
    assert dbos.log_level is None


def test_an_empty_setting_means_the_defaults(settings: Settings) -> None:
    settings.DBOS = {}
    assert conf.get() == conf.DBOSSettings(
        application_name="django", application_version=None, executor_id="local", database="default",
        max_threads=64, serializer=DefaultSerializer(), polling_interval=1.0, heartbeat_interval=5.0,
        worker_timeout=60.0, log_level=None,
    )  # fmt: skip


def test_the_defaults_are_documented_in_DEFAULTS() -> None:
    assert conf.DEFAULTS == {
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


def test_keys_given_override_the_defaults_and_the_rest_keep_them(settings: Settings) -> None:
    settings.DBOS = {"APPLICATION_NAME": "shop", "MAX_THREADS": 8}
    dbos = conf.get()
    assert (dbos.application_name, dbos.max_threads) == ("shop", 8)
    assert (dbos.executor_id, dbos.database, dbos.polling_interval) == ("local", "default", 1.0)


def test_every_key_is_read(settings: Settings) -> None:
    settings.DBOS = {
        "APPLICATION_NAME": "shop",
        "APPLICATION_VERSION": "v2",
        "EXECUTOR_ID": "worker-7",
        "DATABASE": "dbos",
        "MAX_THREADS": 4,
        "SERIALIZER": "json",
        "POLLING_INTERVAL": 0.5,
        "HEARTBEAT_INTERVAL": 2.0,
        "WORKER_TIMEOUT": 30.0,
        "LOG_LEVEL": "DEBUG",
    }
    dbos = conf.get()
    assert dbos == conf.DBOSSettings(
        application_name="shop", application_version="v2", executor_id="worker-7", database="dbos",
        max_threads=4, serializer=JSONSerializer(), polling_interval=0.5, heartbeat_interval=2.0,
        worker_timeout=30.0, log_level="DEBUG",
    )  # fmt: skip
    assert isinstance(dbos.serializer, JSONSerializer)


def test_an_integer_polling_interval_is_read_as_a_float(settings: Settings) -> None:
    settings.DBOS = {"POLLING_INTERVAL": 2}
    interval = conf.get().polling_interval
    assert interval == 2.0 and type(interval) is float


def test_a_setting_that_is_not_a_dict_is_refused(settings: Settings) -> None:
    settings.DBOS = [("APPLICATION_NAME", "shop")]
    with pytest.raises(ImproperlyConfigured, match="settings.DBOS must be a dict, not list"):
        conf.get()


# Validation: each bad key is named in the error


@pytest.mark.parametrize(
    "name", ["ab", "a" * 31, "Shop", "my shop", "shop!", "shop.v2", "", 42, None],
    ids=["too-short", "too-long", "uppercase", "space", "punctuation", "dot", "empty", "int", "none"],
)  # fmt: skip
def test_APPLICATION_NAME_must_be_3_to_30_lowercase_letters_digits_dashes_or_underscores(
    settings: Settings, name: Any
) -> None:
    message = invalid(settings, APPLICATION_NAME=name)
    assert "APPLICATION_NAME:" in message
    assert repr(name) in message


def test_APPLICATION_NAME_with_a_trailing_newline_is_refused(settings: Settings) -> None:
    assert "APPLICATION_NAME:" in invalid(settings, APPLICATION_NAME="shop\n")


@pytest.mark.parametrize("name", ["abc", "a" * 30, "my-shop_2", "123"])
def test_APPLICATION_NAME_accepts_names_matching_the_pattern(settings: Settings, name: str) -> None:
    settings.DBOS = {"APPLICATION_NAME": name}
    assert conf.get().application_name == name


@pytest.mark.parametrize("key", ["EXECUTOR_ID", "DATABASE"])
@pytest.mark.parametrize("value", ["", "   ", None, 5])
def test_EXECUTOR_ID_and_DATABASE_must_be_non_empty_strings(settings: Settings, key: str, value: Any) -> None:
    message = invalid(settings, **{key: value})
    assert f"{key}: must be a non-empty string" in message


@pytest.mark.parametrize("version", ["", "  ", 3])
def test_APPLICATION_VERSION_must_be_None_or_a_non_empty_string(settings: Settings, version: Any) -> None:
    assert "APPLICATION_VERSION: must be None or a non-empty string" in invalid(settings, APPLICATION_VERSION=version)


def test_APPLICATION_VERSION_is_read_as_given(settings: Settings) -> None:
    settings.DBOS = {"APPLICATION_VERSION": "2024-06-01"}
    assert conf.get().application_version == "2024-06-01"


@pytest.mark.parametrize("threads", [0, -1, True, 1.5, "8", None])
def test_MAX_THREADS_must_be_a_positive_integer(settings: Settings, threads: Any) -> None:
    assert "MAX_THREADS: must be a positive integer" in invalid(settings, MAX_THREADS=threads)


@pytest.mark.parametrize("threads", [1, 200])
def test_MAX_THREADS_accepts_positive_integers(settings: Settings, threads: int) -> None:
    settings.DBOS = {"MAX_THREADS": threads}
    assert conf.get().max_threads == threads


@pytest.mark.parametrize("interval", [0, -0.5, True, "1", None])
def test_POLLING_INTERVAL_must_be_a_positive_number_of_seconds(settings: Settings, interval: Any) -> None:
    assert "POLLING_INTERVAL: must be a positive number" in invalid(settings, POLLING_INTERVAL=interval)


@pytest.mark.parametrize("interval", [math.nan, math.inf], ids=["nan", "inf"])
def test_POLLING_INTERVAL_must_be_finite(settings: Settings, interval: float) -> None:
    assert "POLLING_INTERVAL:" in invalid(settings, POLLING_INTERVAL=interval)


@pytest.mark.parametrize("level", ["info", "VERBOSE", 10, ""])
def test_LOG_LEVEL_must_be_None_or_a_logging_level_name(settings: Settings, level: Any) -> None:
    assert "LOG_LEVEL: must be None or a logging level name" in invalid(settings, LOG_LEVEL=level)


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", None])
def test_LOG_LEVEL_accepts_the_level_names(settings: Settings, level: str | None) -> None:
    settings.DBOS = {"LOG_LEVEL": level}
    assert conf.get().log_level == level


def test_SERIALIZER_json_plus_pickle_is_the_default_serializer(settings: Settings) -> None:
    settings.DBOS = {"SERIALIZER": "json+pickle"}
    assert type(conf.get().serializer) is DefaultSerializer


def test_SERIALIZER_json_is_the_json_only_serializer(settings: Settings) -> None:
    settings.DBOS = {"SERIALIZER": "json"}
    assert type(conf.get().serializer) is JSONSerializer


def test_SERIALIZER_dotted_path_to_a_class_builds_an_instance(settings: Settings) -> None:
    settings.DBOS = {"SERIALIZER": "tests.test_settings.ShoutingSerializer"}
    assert type(conf.get().serializer) is ShoutingSerializer


def test_SERIALIZER_dotted_path_to_an_instance_uses_that_instance(settings: Settings) -> None:
    settings.DBOS = {"SERIALIZER": "tests.test_settings.SHOUTING_INSTANCE"}
    assert conf.get().serializer is SHOUTING_INSTANCE


def test_SERIALIZER_accepts_a_Serializer_instance(settings: Settings) -> None:
    serializer = ShoutingSerializer()
    settings.DBOS = {"SERIALIZER": serializer}
    assert conf.get().serializer is serializer


@pytest.mark.parametrize("value", ["pickle", "xml", 42, None])
def test_SERIALIZER_names_other_than_json_formats_or_a_dotted_path_are_refused(settings: Settings, value: Any) -> None:
    message = invalid(settings, SERIALIZER=value)
    assert "SERIALIZER: SERIALIZER must be 'json+pickle', 'json' or a dotted path" in message
    assert repr(value) in message


def test_SERIALIZER_dotted_path_that_does_not_import_is_refused(settings: Settings) -> None:
    message = invalid(settings, SERIALIZER="tests.test_settings.NoSuchSerializer")
    assert "SERIALIZER:" in message and "NoSuchSerializer" in message


def test_SERIALIZER_class_that_cannot_be_built_is_refused(settings: Settings) -> None:
    assert "SERIALIZER:" in invalid(settings, SERIALIZER="tests.test_settings.NeedsArguments")


def test_SERIALIZER_dotted_path_to_something_that_is_not_a_Serializer_is_refused(settings: Settings) -> None:
    assert "SERIALIZER:" in invalid(settings, SERIALIZER="collections.OrderedDict")


def test_unknown_keys_are_refused_with_the_list_of_known_keys(settings: Settings) -> None:
    message = invalid(settings, APPLICATION_NAME="shop", APP_NAME="shop")
    assert "APP_NAME: unknown key 'APP_NAME'" in message
    assert "known keys: " + ", ".join(conf.DEFAULTS) in message


def test_every_bad_key_is_reported_at_once(settings: Settings) -> None:
    message = invalid(settings, MAX_THREADS=0, LOG_LEVEL="LOUD", TYPO=1)
    assert message.startswith("Invalid DBOS setting: ")
    for key in ("MAX_THREADS:", "LOG_LEVEL:", "TYPO:"):
        assert key in message


# Caching


def test_the_settings_are_read_once_and_cached(settings: Settings) -> None:
    settings.DBOS = {"APPLICATION_NAME": "shop"}
    assert conf.get() is conf.get()


def test_changing_the_setting_resets_the_cached_object(settings: Settings) -> None:
    settings.DBOS = {"APPLICATION_NAME": "before"}
    assert conf.get().application_name == "before"
    settings.DBOS = {"APPLICATION_NAME": "after"}
    assert conf.get().application_name == "after"


def test_leaving_override_settings_restores_the_previous_value(settings: Settings) -> None:
    settings.DBOS = {"APPLICATION_NAME": "outer"}
    assert conf.get().application_name == "outer"
    with override_settings(DBOS={"APPLICATION_NAME": "inner"}):
        assert conf.get().application_name == "inner"
    assert conf.get().application_name == "outer"


def test_changing_another_setting_keeps_the_cached_object(settings: Settings) -> None:
    cached = conf.get()
    settings.TIME_ZONE = "Europe/Paris"
    assert conf.get() is cached


@pytest.mark.parametrize("key", ["HEARTBEAT_INTERVAL", "WORKER_TIMEOUT"])
@pytest.mark.parametrize("value", [0, -1, "5", float("inf")])
def test_heartbeat_times_must_be_positive_numbers_of_seconds(settings: Settings, key: str, value: Any) -> None:
    assert f"{key}: must be a positive number" in invalid(settings, **{key: value})


def test_the_worker_timeout_must_leave_room_for_two_missed_heartbeats(settings: Settings) -> None:
    assert "WORKER_TIMEOUT: must be more than twice HEARTBEAT_INTERVAL" in invalid(
        settings, HEARTBEAT_INTERVAL=5, WORKER_TIMEOUT=10
    )
