"""Durable sleep: the wake-up time is a checkpoint."""

from __future__ import annotations

import json

from dbos_django import DBOS, SetWorkflowID
from dbos_django.engine import clock
from dbos_django.models import StepOutput


def test_sleep_records_its_wake_up_time_before_sleeping(dbos):
    @DBOS.workflow()
    def napper() -> str:
        DBOS.sleep(0.05)
        return "rested"

    before = clock.now_ms()
    with SetWorkflowID("sleep-1"):
        assert napper() == "rested"
    step = StepOutput.objects.get(workflow_id="sleep-1", function_id=1)
    assert step.function_name == "DBOS.sleep"
    wake_up = json.loads(step.output)
    assert wake_up == step.completed_at_epoch_ms
    assert before + 50 <= wake_up <= clock.now_ms()


def test_sleep_of_zero_takes_no_step(dbos):
    @DBOS.workflow()
    def no_nap() -> None:
        DBOS.sleep(0)

    with SetWorkflowID("sleep-2"):
        no_nap()
    assert DBOS.list_workflow_steps("sleep-2") == []


def test_sleep_outside_a_workflow_is_a_plain_sleep(transactional_db):
    DBOS.sleep(0.001)
