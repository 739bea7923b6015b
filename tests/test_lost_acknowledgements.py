"""A statement retried after its commit's acknowledgement was lost (the server went away) recognises its own write.

When PostgreSQL stops abruptly, a commit can land while the client only sees a broken connection;
``connections.run`` then runs the statement again. These tests make the state such a first attempt
leaves behind, then run the retry.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection

from dbos_django import DBOS, Queue, SetWorkflowID
from dbos_django.conf import get as get_settings
from dbos_django.models import Message
from dbos_django.storage import messages as message_store
from dbos_django.storage import queues as queue_store
from dbos_django.storage.records import Owner, StepRecord

lost_ack_queue = Queue("lost-ack")


@DBOS.workflow()
def receive_once() -> object:
    return DBOS.recv("topic", timeout_seconds=10)


def test_a_retried_recv_returns_the_message_it_took_instead_of_taking_another(dbos: type[DBOS]) -> None:
    with SetWorkflowID("lost-ack-recv"):
        handle = DBOS.start_workflow(receive_once)
    DBOS.send("lost-ack-recv", "first", "topic")
    assert handle.get_result() == "first"
    DBOS.send("lost-ack-recv", "second", "topic")
    now = int(time.time() * 1000)

    # The retry of the recv's statement (step 1): its checkpoint exists, as if the acknowledgement was lost.
    again = message_store.consume("default", "lost-ack-recv", "topic", Owner("default", "lost-ack-recv", 1),
                                  StepRecord(1, "DBOS.recv", None, None, None, now, now))  # fmt: skip
    assert again is not None and again.output == '"first"'
    assert list(Message.objects.filter(destination_id="lost-ack-recv").order_by("id")
                .values_list("message", "consumed")) == [('"first"', True), ('"second"', False)]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_retried_claim_finds_the_rows_its_first_attempt_took() -> None:
    ids = [lost_ack_queue.enqueue(receive_once).workflow_id for _ in range(3)]
    now = int(time.time() * 1000)
    claimed = queue_store.claim("default", lost_ack_queue.name, partition=None, limits=queue_store.Limits(),
                                wanted=2, executor_id="me", versions=(get_settings().version(),), now_ms=now)  # fmt: skip
    assert len(claimed) == 2
    # What the retry of that claim looks for first: the rows taken at that instant by this executor.
    again = queue_store._taken_at(connection, lost_ack_queue.name, None, "me", now)
    assert set(again) == set(claimed)
    assert queue_store._taken_at(connection, lost_ack_queue.name, None, "someone-else", now) == []
    assert {c.workflow_id for c in claimed} < set(ids)
