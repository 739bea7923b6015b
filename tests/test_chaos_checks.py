"""The chaos soak's checker (``chaos/checks.py``) finds every kind of violation in a database state made by hand.

The soak itself (``make chaos``) restarts PostgreSQL, so it runs on its own, not in this suite; this
makes sure that a soak that passes would have failed had anything been lost, duplicated or stuck.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from chaos.checks import Plan, check, expected_output
from dbos_django.models import Message, Workflow, WorkflowEvent

pytestmark = pytest.mark.slow
TICK_AT = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def chaos_tables(transactional_db: None) -> Iterator[None]:
    """The soak's app installed, and its tables created, for one test."""
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "chaos.chaosapp"]):
        from chaos.chaosapp.models import Delivery, LedgerEntry, Tick

        models = (Delivery, LedgerEntry, Tick)
        with connection.schema_editor() as editor:
            for model in models:
                editor.create_model(model)
        try:
            yield
        finally:
            with connection.schema_editor() as editor:
                for model in models:
                    editor.delete_model(model)


def _workflow(workflow_id: str, name: str, status: str, output: object = None, parent: str | None = None) -> None:
    Workflow.objects.create(workflow_id=workflow_id, name=name, status=status, created_at=1, updated_at=1,
                            output=None if output is None else json.dumps(output), parent_workflow_id=parent,
                            recovery_attempts=1)  # fmt: skip


def _paid_order(number: int) -> tuple[str, str]:
    from chaos.chaosapp.models import Delivery, LedgerEntry

    workflow_id, token = f"order-{number}", f"pay-{number}"
    _workflow(workflow_id, "order", "SUCCESS", expected_output(number, token))
    _workflow(f"{workflow_id}-1", "pack", "SUCCESS", f"parcel-{number}", parent=workflow_id)
    LedgerEntry.objects.create(workflow_id=workflow_id, amount=number * 7)
    Message.objects.create(message_id=f"m-{number}", destination_id=workflow_id, topic="payment",
                           message=json.dumps(token), created_at=1, consumed=True)  # fmt: skip
    Delivery.objects.create(workflow_id=workflow_id, token=token)
    WorkflowEvent.objects.create(workflow_id=workflow_id, key="stage", value=json.dumps("done"))
    return workflow_id, token


def _good_state() -> Plan:
    """Two paid orders, a doomed one, a tick: what a passing soak leaves."""
    from chaos.chaosapp.models import Tick

    paid = dict(_paid_order(n) for n in (1, 2))
    _workflow("order-3", "order", "ERROR")
    _workflow("sched-tick-1", "tick", "SUCCESS")
    Tick.objects.create(workflow_id="sched-tick-1", scheduled_at=TICK_AT)
    return Plan(orders={"order-1": (1, False), "order-2": (2, False), "order-3": (3, True)}, payments=paid)


def test_a_clean_state_passes(chaos_tables: None) -> None:
    findings = check(_good_state())
    assert findings.violations == []
    assert findings.figures["submitted"] == 3
    assert (findings.figures["succeeded"], findings.figures["failed"], findings.figures["lost"]) == (2, 1, 0)
    assert findings.figures["ledger_rows"] == findings.figures["deliveries"] == 2
    assert findings.figures["tick_rows"] == 1


def _duplicate_ledger_row() -> None:
    from chaos.chaosapp.models import LedgerEntry

    LedgerEntry.objects.create(workflow_id="order-1", amount=7)


def _delivered_twice() -> None:
    from chaos.chaosapp.models import Delivery

    Delivery.objects.create(workflow_id="order-2", token="pay-2")


def _tick_twice() -> None:
    from chaos.chaosapp.models import Tick

    _workflow("sched-tick-1-again", "tick", "SUCCESS")
    Tick.objects.create(workflow_id="sched-tick-1-again", scheduled_at=TICK_AT)


def _message_sent_twice() -> None:
    Message.objects.create(message_id="m-1-again", destination_id="order-1", topic="payment",
                           message=json.dumps("pay-1"), created_at=1, consumed=False)  # fmt: skip


VIOLATIONS: dict[str, tuple[Callable[[], object], str]] = {
    "stuck": (lambda: Workflow.objects.filter(workflow_id="order-2").update(status="PENDING"), "stuck"),
    "stuck child": (lambda: Workflow.objects.filter(workflow_id="order-1-1").update(status="ENQUEUED"), "stuck"),
    "lost": (lambda: Workflow.objects.filter(workflow_id="order-3").delete(), "orders lost"),
    "doomed order succeeded": (lambda: Workflow.objects.filter(workflow_id="order-3").update(status="SUCCESS"),
                               "ended otherwise than planned"),
    "wrong output": (lambda: Workflow.objects.filter(workflow_id="order-1").update(output='{"amount": 1}'),
                     "wrong output"),
    "ledger row twice": (_duplicate_ledger_row, "exactly one ledger row"),
    "payment delivered twice": (_delivered_twice, "not delivered exactly once"),
    "payment message twice": (_message_sent_twice, "not stored exactly once"),
    "tick ran twice": (_tick_twice, "ticks that ran more than once"),
    "no child": (lambda: Workflow.objects.filter(workflow_id="order-2-1").delete(), "exactly one successful child"),
    "event not set": (lambda: WorkflowEvent.objects.filter(workflow_id="order-1").delete(), "'stage' is not 'done'"),
}


@pytest.mark.parametrize("name", list(VIOLATIONS))
def test_the_checker_finds_each_violation(chaos_tables: None, name: str) -> None:
    plan = _good_state()
    make, expected = VIOLATIONS[name]
    make()
    violations = check(plan).violations
    assert any(expected in v for v in violations), violations
