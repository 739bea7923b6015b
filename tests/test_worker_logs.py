"""What a process running queued workflows logs: failures at ERROR, for error trackers reading the logs."""

from __future__ import annotations

import logging

import pytest

from dbos_django import DBOS, Queue
from tests.conftest import wait_for

logged = Queue("test-logged", polling_interval_sec=0.05)


@DBOS.workflow()
def logged_failure(message: str) -> None:
    raise ValueError(message)


@DBOS.workflow()
def logged_success() -> str:
    return "fine"


def records(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "dbos_django" and r.levelno == level and text in r.getMessage()]


def test_a_queued_workflow_that_fails_is_logged_at_error(dbos, caplog):
    caplog.set_level(logging.INFO, logger="dbos_django")
    handle = logged.enqueue(logged_failure, "the card was declined")
    with pytest.raises(ValueError):
        handle.get_result()
    wait_for(lambda: records(caplog, logging.ERROR, "the card was declined"))
    assert handle.workflow_id in records(caplog, logging.ERROR, "the card was declined")[0].getMessage()


def test_a_queued_workflow_that_succeeds_is_logged_at_info_only(dbos, caplog):
    caplog.set_level(logging.INFO, logger="dbos_django")
    handle = logged.enqueue(logged_success)
    assert handle.get_result() == "fine"
    wait_for(lambda: records(caplog, logging.INFO, f"Finished workflow {handle.workflow_id}"))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
