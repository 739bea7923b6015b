"""Debouncer: calls within the period push the start back (up to the timeout); one workflow runs."""

from __future__ import annotations

import pytest

from dbos_django import DBOS, DBOSClient, Debouncer, DebouncerClient, SetEnqueueOptions
from dbos_django.error import DBOSException, DBOSQueueDeduplicatedError
from dbos_django.models import Workflow


@DBOS.workflow()
def save_draft(text: str) -> str:
    return text


@DBOS.workflow()
def other(text: str) -> str:
    return text


@pytest.mark.django_db
def test_calls_within_the_period_start_one_workflow_with_the_latest_inputs(dbos_runtime):
    debouncer = Debouncer.create(save_draft)
    first = debouncer.debounce("doc-1", 10, "v1")
    dbos_runtime.clock.advance(5)
    second = debouncer.debounce("doc-1", 10, "v2")
    assert second.workflow_id == first.workflow_id
    assert dbos_runtime.advance(9) == 0  # pushed back: 5 + 10 from the first call's time
    assert dbos_runtime.advance(1) == 1
    assert first.get_result() == "v2"


@pytest.mark.django_db
def test_the_timeout_caps_how_far_the_start_is_pushed(dbos_runtime):
    debouncer = Debouncer.create(save_draft, debounce_timeout_sec=15)
    handle = debouncer.debounce("doc-2", 10, "a")
    for text in ("b", "c", "d"):
        dbos_runtime.clock.advance(5)
        debouncer.debounce("doc-2", 10, text)
    assert dbos_runtime.drain() == 1  # 15 s after the first call, whatever the later ones asked
    assert handle.get_result() == "d"


@pytest.mark.django_db
def test_a_new_round_starts_after_the_workflow_started(dbos_runtime):
    debouncer = Debouncer.create(save_draft)
    first = debouncer.debounce("doc-3", 1, "one")
    dbos_runtime.advance(1)
    second = debouncer.debounce("doc-3", 1, "two")
    assert second.workflow_id != first.workflow_id
    dbos_runtime.advance(1)
    assert (first.get_result(), second.get_result()) == ("one", "two")


@pytest.mark.django_db
def test_different_keys_debounce_separately(dbos_runtime):
    debouncer = Debouncer.create(save_draft)
    assert debouncer.debounce("a", 1, "x").workflow_id != debouncer.debounce("b", 1, "y").workflow_id


@pytest.mark.django_db
def test_a_key_held_by_another_workflow_is_deduplicated(dbos_runtime):
    with SetEnqueueOptions(deduplication_id="save_draft-held"):
        DBOS.enqueue_workflow("_dbos_internal_queue", other, "x")
    with pytest.raises(DBOSQueueDeduplicatedError):
        Debouncer.create(save_draft).debounce("held", 1, "y")


@pytest.mark.django_db
def test_enqueue_options_are_refused(dbos_runtime):
    with SetEnqueueOptions(priority=1), pytest.raises(DBOSException, match="debounced workflow takes no"):
        Debouncer.create(save_draft).debounce("k", 1, "x")


def test_a_non_workflow_is_refused():
    with pytest.raises(DBOSException, match="not a workflow"):
        Debouncer.create(len)


@pytest.mark.django_db
def test_the_client_debouncer_names_the_workflow(dbos_runtime):
    debouncer = DebouncerClient(DBOSClient(), {"workflow_name": save_draft.__qualname__, "queue_name": "_dbos_internal_queue"})
    handle = debouncer.debounce("c", 2, "from-client")
    debouncer.debounce("c", 2, "again")
    row = Workflow.objects.get(workflow_id=handle.workflow_id)
    assert (row.status, row.is_debounced) == ("DELAYED", True)
    dbos_runtime.advance(2)
    assert handle.get_result() == "again"
