"""The soak's invariants, checked on the database once the work has drained.

``check(plan)`` reads every workflow row and every row the workflows wrote, compares them with what
the soak submitted and sent, and returns the figures and the violations. It reads with the ORM and
imports nothing from the workflows module, so tests can run it on a database state made by hand.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

ORDER = "order"
CHILD = "pack"
TICK = "tick"
PAYMENT_TOPIC = "payment"
EXAMPLES = 5


def expected_output(number: int, token: str) -> dict[str, Any]:
    """What ``workflows.order(number, doomed=False)`` returns once paid with ``token``."""
    return {"amount": number * 7, "parcel": f"parcel-{number}", "token": token}


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What the soak did: the orders it enqueued (id -> (number, doomed)) and the payments it sent (id -> token)."""

    orders: dict[str, tuple[int, bool]]
    payments: dict[str, str]


@dataclass(slots=True)
class Findings:
    figures: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def flag(self, what: str, ids: object) -> None:
        """Record a violation if ``ids`` (workflow ids, ticks...) is not empty."""
        found = sorted(str(i) for i in ids)  # type: ignore[attr-defined]
        if found:
            more = " ..." if len(found) > EXAMPLES else ""
            self.violations.append(f"{what}: {len(found)} ({', '.join(found[:EXAMPLES])}{more})")


@dataclass(frozen=True, slots=True)
class WorkflowRow:
    name: str
    status: str
    output: str | None
    parent: str | None
    recovery_attempts: int


@dataclass(slots=True)
class State:
    """Everything the checks look at, read once."""

    workflows: dict[str, WorkflowRow]
    ledger: dict[str, list[int]]
    deliveries: dict[str, list[str]]
    messages: dict[str, list[bool]]  # destination -> consumed flag of each payment message
    stages: dict[str, Any]
    ticks: list[tuple[str, Any]]

    @classmethod
    def load(cls, alias: str = "default") -> State:
        from dbos_django.models import Message, Workflow, WorkflowEvent

        from .chaosapp.models import Delivery, LedgerEntry, Tick

        workflows = {wid: WorkflowRow(*rest) for wid, *rest in Workflow.objects.using(alias).values_list(
            "workflow_id", "name", "status", "output", "parent_workflow_id", "recovery_attempts")}  # fmt: skip
        ledger: dict[str, list[int]] = defaultdict(list)
        for wid, amount in LedgerEntry.objects.using(alias).values_list("workflow_id", "amount"):
            ledger[wid].append(amount)
        deliveries: dict[str, list[str]] = defaultdict(list)
        for wid, token in Delivery.objects.using(alias).values_list("workflow_id", "token"):
            deliveries[wid].append(token)
        messages: dict[str, list[bool]] = defaultdict(list)
        for dest, consumed in Message.objects.using(alias).filter(topic=PAYMENT_TOPIC).values_list(
                "destination_id", "consumed"):  # fmt: skip
            messages[dest].append(consumed)
        stages = {wid: json.loads(value) for wid, value in
                  WorkflowEvent.objects.using(alias).filter(key="stage").values_list("workflow_id", "value")}  # fmt: skip
        ticks = list(Tick.objects.using(alias).values_list("workflow_id", "scheduled_at"))
        return cls(workflows, ledger, deliveries, messages, stages, ticks)


def check(plan: Plan, alias: str = "default") -> Findings:
    """Compare the database with the plan: every invariant of the soak."""
    state = State.load(alias)
    findings = Findings()
    _orders(plan, state, findings)
    _effects(plan, state, findings)
    _children(plan, state, findings)
    _ticks(state, findings)
    return findings


def _orders(plan: Plan, state: State, findings: Findings) -> None:
    """No order lost, none stuck; each ends as planned (paid ones with the right output)."""
    rows = state.workflows
    lost = [wid for wid in plan.orders if wid not in rows]
    present = {wid: rows[wid] for wid in plan.orders if wid in rows}
    statuses = Counter(row.status for row in present.values())
    findings.figures.update(submitted=len(plan.orders), succeeded=statuses["SUCCESS"], failed=statuses["ERROR"],
                            pending=len(present) - statuses["SUCCESS"] - statuses["ERROR"], lost=len(lost),
                            doomed=sum(doomed for _, doomed in plan.orders.values()),
                            resumed=sum(row.recovery_attempts > 1 for row in present.values()))  # fmt: skip
    findings.flag("orders lost (submitted, no row)", lost)
    findings.flag("workflows stuck (not finished)",
                  [wid for wid, row in rows.items() if row.status not in _TERMINAL])  # fmt: skip
    wrong_end, wrong_output = [], []
    for wid, row in present.items():
        number, doomed = plan.orders[wid]
        if row.status in _TERMINAL and row.status != ("ERROR" if doomed else "SUCCESS"):
            wrong_end.append(wid)
        elif row.status == "SUCCESS" and _load(row.output) != expected_output(number, plan.payments.get(wid, "")):
            wrong_output.append(wid)
    findings.flag("orders that ended otherwise than planned", wrong_end)
    findings.flag("orders with a wrong output", wrong_output)
    findings.flag("workflows that are not the soak's", [wid for wid, row in rows.items()
                                                          if row.name not in (ORDER, CHILD, TICK)])  # fmt: skip


def _effects(plan: Plan, state: State, findings: Findings) -> None:
    """One ledger row per booked order, one delivery per payment, each payment sent once and consumed."""
    booked = {wid for wid, (_, doomed) in plan.orders.items()
              if not doomed and state.workflows.get(wid, _NONE).status == "SUCCESS"}  # fmt: skip
    findings.figures["ledger_rows"] = sum(len(v) for v in state.ledger.values())
    findings.flag("orders without exactly one ledger row",
                  [wid for wid in booked if len(state.ledger.get(wid, [])) != 1])  # fmt: skip
    findings.flag("ledger rows of orders that must not have one",
                  [wid for wid in state.ledger if wid not in booked])  # fmt: skip
    findings.flag("ledger rows with a wrong amount", [wid for wid in booked if state.ledger.get(wid) not in
                                                       (None, [plan.orders[wid][0] * 7])])  # fmt: skip
    findings.figures["messages_sent"] = len(plan.payments)
    findings.figures["deliveries"] = sum(len(v) for v in state.deliveries.values())
    findings.flag("payments not delivered exactly once",
                  [wid for wid, token in plan.payments.items() if state.deliveries.get(wid) != [token]])  # fmt: skip
    findings.flag("deliveries of payments never sent", [wid for wid in state.deliveries if wid not in plan.payments])
    findings.flag("payments not stored exactly once, consumed",
                  [wid for wid in plan.payments if state.messages.get(wid) != [True]])  # fmt: skip
    findings.flag("payment messages the soak did not send",
                  [wid for wid in state.messages if wid not in plan.payments])  # fmt: skip
    findings.flag("paid orders whose event 'stage' is not 'done'",
                  [wid for wid in booked if state.stages.get(wid) != "done"])  # fmt: skip


def _children(plan: Plan, state: State, findings: Findings) -> None:
    """One child workflow per booked order, finished with its parcel; none for doomed orders."""
    children: dict[str, list[WorkflowRow]] = defaultdict(list)
    for row in state.workflows.values():
        if row.name == CHILD and row.parent is not None:
            children[row.parent].append(row)
    findings.figures["children"] = sum(len(v) for v in children.values())
    wrong = []
    for wid, (number, doomed) in plan.orders.items():
        found = children.get(wid, [])
        if doomed and found:
            wrong.append(wid)
        elif not doomed and state.workflows.get(wid, _NONE).status == "SUCCESS" and (
                len(found) != 1 or found[0].status != "SUCCESS" or _load(found[0].output) != f"parcel-{number}"):  # fmt: skip
            wrong.append(wid)
    findings.flag("orders without exactly one successful child", wrong)
    findings.flag("child workflows without a parent",
                  [wid for wid, row in state.workflows.items() if row.name == CHILD and row.parent is None])  # fmt: skip


def _ticks(state: State, findings: Findings) -> None:
    """Each tick at most once; each finished tick workflow wrote exactly one row."""
    runs = {wid: row for wid, row in state.workflows.items() if row.name == TICK}
    per_instant = Counter(at for _, at in state.ticks)
    per_workflow = Counter(wid for wid, _ in state.ticks)
    findings.figures["tick_workflows"] = len(runs)
    findings.figures["tick_rows"] = len(state.ticks)
    findings.flag("ticks that ran more than once", [at.isoformat() for at, n in per_instant.items() if n > 1])
    findings.flag("tick workflows without exactly one row",
                  [wid for wid, row in runs.items() if row.status == "SUCCESS" and per_workflow[wid] != 1])  # fmt: skip
    findings.flag("tick workflows that did not succeed",
                  [wid for wid, row in runs.items() if row.status in _TERMINAL and row.status != "SUCCESS"])  # fmt: skip
    findings.flag("tick rows of no tick workflow", [wid for wid in per_workflow if wid not in runs])


_TERMINAL = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")
_NONE = WorkflowRow("", "", None, None, 0)


def _load(text: str | None) -> Any:
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return text  # pickled: never what the soak's workflows return
