"""What an operator can do to workflows: each operation calls the engine, through the ``DBOS`` facade.

An operation knows its permission, which statuses it passes over (and why), and how to say what it
did. The admin views (``actions.py``) confirm before calling ``run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.utils import quote
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..facade import DBOS
from ..models import Workflow

BATCH = 500
LINKED = 10  # at most this many new workflows are linked in a message


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What an operation did: a message for people, and the new workflows it started."""

    message: SafeString | str
    new_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """One workflow operation of the admin."""

    name: str  # URL segment and list action prefix: "cancel" -> "<id>/cancel/", "cancel_selected"
    permission: str  # ModelAdmin.has_<permission>_permission
    verb: str  # "Cancel"
    past: str  # "Cancelled"
    explanation: str
    skipped: dict[str, str]  # status -> why the operation passes over it
    apply: Callable[[list[str], int], list[str]]  # (ids, start step) -> ids of new workflows

    def targets(self, queryset: QuerySet[Workflow]) -> QuerySet[Workflow]:
        """The workflows of ``queryset`` this operation acts on."""
        return queryset.exclude(status__in=list(self.skipped))

    def passed_over(self, queryset: QuerySet[Workflow]) -> QuerySet[Workflow]:
        """The workflows of ``queryset`` this operation leaves alone."""
        return queryset.filter(status__in=list(self.skipped))

    def run(self, queryset: QuerySet[Workflow], start_step: int = 1) -> Outcome:
        """Apply the operation to every target, ``BATCH`` ids at a time; say what was done."""
        done, new_ids = 0, []
        for ids in batches(self.targets(queryset)):
            new_ids.extend(self.apply(ids, start_step))
            done += len(ids)
        return Outcome(message=self.report(done, new_ids, start_step), new_ids=new_ids)

    def report(self, done: int, new_ids: list[str], start_step: int) -> SafeString | str:
        """Say what was done, with links to the new workflows."""
        noun = "workflow" if done == 1 else "workflows"
        text = f"{self.past} {done} {noun}"
        if self.name == "fork":
            text += f" from step {start_step}"
        if not new_ids:
            return text + "."
        links = format_html_join(", ", '<a href="{}">{}</a>', ((workflow_url(i), i) for i in new_ids[:LINKED]))
        more = f" and {len(new_ids) - LINKED} more" if len(new_ids) > LINKED else ""
        return format_html("{}: new {} {}{}.", text, "workflow" if len(new_ids) == 1 else "workflows", links, more)


def workflow_url(workflow_id: str) -> str:
    """The admin page of a workflow."""
    return reverse("admin:dbos_django_workflow_change", args=[quote(workflow_id)])


def batches(queryset: QuerySet[Workflow]) -> Iterator[list[str]]:
    """The ids of ``queryset`` as they are now, ``BATCH`` at a time.

    Taken before acting: a restart of "every workflow" must not restart the new ones it creates.
    """
    ids = list(queryset.order_by().values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _cancel(ids: list[str], start_step: int) -> list[str]:
    DBOS.cancel_workflows(ids)
    return []


def _resume(ids: list[str], start_step: int) -> list[str]:
    DBOS.resume_workflows(ids)
    return []


def _fork(ids: list[str], start_step: int) -> list[str]:
    return [DBOS.fork_workflow(workflow_id, start_step).workflow_id for workflow_id in ids]


def _to_current_version(ids: list[str], start_step: int) -> list[str]:
    from ..engine import control

    control.move_to_current_version(ids)
    return []


def _delete(ids: list[str], start_step: int) -> list[str]:
    DBOS.delete_workflows(ids)
    return []


FINISHED_HINT = "it has finished; restart it or fork it from a step instead"

CANCEL = Operation(
    name="cancel", permission="cancel", verb="Cancel", past="Cancelled",
    explanation="A running workflow stops at its next step; a queued one leaves its queue. "
                "Nothing is undone: resume it later to continue from its last completed step.",
    skipped={"SUCCESS": "it has finished", "ERROR": "it has finished", "CANCELLED": "it is already cancelled"},
    apply=_cancel,
)  # fmt: skip
RESUME = Operation(
    name="resume", permission="resume", verb="Resume", past="Resumed",
    explanation="The workflow goes back on a queue (DBOS's internal queue, with no limits) with its recovery "
                "attempts reset, and continues from its last completed step: completed steps do not run again. "
                "A queued or delayed workflow starts now.",
    skipped={"SUCCESS": FINISHED_HINT, "ERROR": FINISHED_HINT},
    apply=_resume,
)  # fmt: skip
RESTART = Operation(
    name="restart", permission="restart", verb="Restart", past="Restarted",
    explanation="A new workflow starts with the same inputs and runs every step again (a fork from step 1). "
                "The original is left as it is.",
    skipped={}, apply=_fork,
)  # fmt: skip
FORK = Operation(
    name="fork", permission="fork", verb="Fork", past="Forked",
    explanation="A new workflow starts with the same inputs; it reuses the recorded outputs of the steps before "
                "the chosen one and runs the chosen step and the rest again. The original is left as it is.",
    skipped={}, apply=_fork,
)  # fmt: skip
DELETE = Operation(
    name="delete", permission="delete", verb="Delete", past="Deleted",
    explanation="The workflow and all it recorded (steps, messages, events, streams) are deleted. "
                "A workflow still running is not stopped: cancel it first.",
    skipped={}, apply=_delete,
)  # fmt: skip

CURRENT_VERSION = Operation(
    name="current_version", permission="move", verb="Run on the current version", past="Moved to the current version",
    explanation="Workflows pinned to an application version that no live worker runs wait forever. They are given "
                "this deployment's version and continue from their last completed step (a running one goes back "
                "to a queue). Only do this if the new code replays their recorded steps the same way.",
    skipped={"SUCCESS": "it has finished", "ERROR": "it has finished", "CANCELLED": "it is cancelled: resume it",
             "MAX_RECOVERY_ATTEMPTS_EXCEEDED": "it has finished"},
    apply=_to_current_version,
)  # fmt: skip

OPERATIONS: dict[str, Operation] = {op.name: op for op in (CANCEL, RESUME, RESTART, FORK, DELETE, CURRENT_VERSION)}


def available(workflow: Workflow, has_permission: Callable[[str], Any]) -> list[Operation]:
    """The operations a user may apply to ``workflow`` in its current status (for its page's buttons)."""
    return [op for op in OPERATIONS.values() if workflow.status not in op.skipped and has_permission(op.permission)]
