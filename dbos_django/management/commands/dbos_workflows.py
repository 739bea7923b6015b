"""``python manage.py dbos_workflows list|get|steps|cancel|resume|fork|delete``.

Exit status: 0 done; 1 an error, said on stderr (unknown workflow, refused deletion);
2 a bad command line (argparse's usage error).
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentTypeError
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dbos_django.engine import control, rows
from dbos_django.error import DBOSException
from dbos_django.management import render
from dbos_django.models import WorkflowStatusString
from dbos_django.storage.listing import Filters
from dbos_django.storage.queues import INTERNAL_QUEUE

FINISHED = ("SUCCESS", "ERROR")  # what cancel and resume leave as is


def iso_time(text: str) -> datetime:
    """An ISO 8601 time from the command line; naive means UTC."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not an ISO 8601 time, e.g. 2026-11-02T12:00:00+00:00") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def count(minimum: int) -> Any:
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise ArgumentTypeError(f"{text!r} is not an integer") from None
        if number < minimum:
            raise ArgumentTypeError(f"must be at least {minimum}, not {number}")
        return number

    return parse


def _add_list_arguments(parser: CommandParser) -> None:
    parser.add_argument("--status", action="append", type=str.upper, choices=WorkflowStatusString.values,
                        help="only this status (repeatable)")  # fmt: skip
    parser.add_argument("--name", help="only workflows of this function name")
    parser.add_argument("--queue", dest="queue_name", help="only workflows on this queue")
    parser.add_argument("--executor-id", help="only workflows run by this executor")
    parser.add_argument("--app-version", help="only workflows of this application version")
    parser.add_argument("--start-time", type=iso_time, help="created at or after this ISO 8601 time")
    parser.add_argument("--end-time", type=iso_time, help="created at or before this ISO 8601 time")
    parser.add_argument("--workflow-id-prefix", help="only ids starting with this")
    parser.add_argument("--limit", type=count(1), default=50, help="at most this many (default 50)")
    parser.add_argument("--offset", type=count(0), default=0, help="skip this many first")
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--sort-desc", dest="sort_desc", action="store_true", default=True,
                       help="newest first (the default)")  # fmt: skip
    order.add_argument("--oldest-first", dest="sort_desc", action="store_false", help="oldest first")
    parser.add_argument("--json", action="store_true", help="a JSON list instead of a table")


def _add_arguments(actions: Any) -> None:
    _add_list_arguments(actions.add_parser("list", help="workflows matching filters, newest first"))
    for action, text in (("get", "one workflow"), ("steps", "the steps of a workflow")):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("workflow_id")
        sub.add_argument("--json", action="store_true", help="JSON instead of text")
    cancel = actions.add_parser("cancel", help="cancel a workflow: it stops at its next step")
    cancel.add_argument("workflow_id")
    cancel.add_argument("--children", action="store_true", help="cancel its descendants too")
    resume = actions.add_parser("resume", help="resume a cancelled or stuck workflow from its last step")
    resume.add_argument("workflow_id")
    resume.add_argument("--queue", dest="queue_name", help="the queue it goes back on (default: the internal one)")
    fork = actions.add_parser("fork", help="start a copy of a workflow from a step; print the new id")
    fork.add_argument("workflow_id")
    fork.add_argument("--step", type=count(1), required=True, help="first step to run again (1: all of them)")
    fork.add_argument("--app-version", help="the application version that runs the copy")
    fork.add_argument("--queue", dest="queue_name", help="the queue of the copy (default: the internal one)")
    delete = actions.add_parser("delete", help="delete a workflow and everything it stored")
    delete.add_argument("workflow_id")
    delete.add_argument("--children", action="store_true", help="delete its descendants too")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")


class Command(BaseCommand):
    help = "Inspect and control workflows: list, get, steps, cancel, resume, fork, delete."

    def add_arguments(self, parser: CommandParser) -> None:
        _add_arguments(parser.add_subparsers(dest="action", required=True))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DBOSException as exc:
            raise CommandError(exc.message) from exc

    def _json(self, data: object) -> None:
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))

    def _list(self, options: dict[str, Any]) -> None:
        keys = ("status", "name", "queue_name", "executor_id", "app_version", "start_time", "end_time",
                "workflow_id_prefix", "limit", "offset", "sort_desc")  # fmt: skip
        found = rows.workflows(Filters(**{key: options[key] for key in keys}))
        if options["json"]:
            self._json([render.workflow(row) for row in found])
        elif not found:
            self.stdout.write("No workflows.")
        else:
            lines = render.table(("WORKFLOW ID", "STATUS", "NAME", "QUEUE", "EXECUTOR", "CREATED (UTC)"),
                                 [(r.workflow_id, r.status, r.name, r.queue_name, r.executor_id, render.iso(r.created_at))
                                  for r in found])  # fmt: skip
            self.stdout.write("\n".join(lines))

    def _get(self, options: dict[str, Any]) -> None:
        details = render.workflow_details(rows.workflow(options["workflow_id"]))
        if options["json"]:
            self._json(details)
            return
        values = {key: details.pop(key) for key in ("input", "output", "error")}
        width = max(len(key) for key in details)
        for key, shown in details.items():
            self.stdout.write(f"{key:{width}}  {'-' if shown is None else shown}")
        for key, shown in values.items():
            if shown is not None:
                self.stdout.write(f"{key}:\n" + "\n".join(f"  {line}" for line in shown.splitlines()))

    def _steps(self, options: dict[str, Any]) -> None:
        found = rows.steps(options["workflow_id"])
        if options["json"]:
            self._json([render.step(record) for record in found])
        elif not found:
            self.stdout.write("No steps.")
        else:
            lines = render.table(("ID", "NAME", "STARTED (UTC)", "COMPLETED (UTC)", "CHILD", "OUTPUT / ERROR"), [
                (s.function_id, s.function_name, render.iso(s.started_at_epoch_ms), render.iso(s.completed_at_epoch_ms),
                 s.child_workflow_id, "error: " + render.one_line(render.value(s.error)) if s.error is not None
                 else render.one_line(render.value(s.output)))
                for s in found])  # fmt: skip
            self.stdout.write("\n".join(lines))

    def _cancel(self, options: dict[str, Any]) -> None:
        workflow_id = options["workflow_id"]
        status = rows.workflow(workflow_id).status
        control.cancel([workflow_id], cancel_children=options["children"])
        said = (f"Workflow {workflow_id} had already finished ({status}): left as is" if status in FINISHED
                else f"Cancelled workflow {workflow_id}")  # fmt: skip
        self.stdout.write(said + ("; its unfinished descendants were cancelled" if options["children"] else ""))

    def _resume(self, options: dict[str, Any]) -> None:
        workflow_id, queue = options["workflow_id"], options["queue_name"]
        status = rows.workflow(workflow_id).status
        if status in FINISHED:
            self.stdout.write(f"Workflow {workflow_id} has already finished ({status}): nothing to resume")
            return
        control.resume(workflow_id, queue_name=queue)
        self.stdout.write(f"Resumed workflow {workflow_id} on queue {queue or INTERNAL_QUEUE}")

    def _fork(self, options: dict[str, Any]) -> None:
        handle = control.fork(options["workflow_id"], options["step"], application_version=options["app_version"],
                              queue_name=options["queue_name"])  # fmt: skip
        self.stdout.write(handle.workflow_id)

    def _delete(self, options: dict[str, Any]) -> None:
        workflow_id, children = options["workflow_id"], options["children"]
        rows.workflow(workflow_id)
        what = f"workflow {workflow_id}" + (" and its descendants" if children else "")
        if not options["yes"]:
            self._confirm(f"Delete {what} and everything it stored?")
        control.delete([workflow_id], delete_children=children)
        self.stdout.write(f"Deleted {what}")

    def _confirm(self, question: str) -> None:
        """Ask on the terminal; refuse when there is no terminal to ask on."""
        if not sys.stdin.isatty():
            raise CommandError("Refusing to delete without --yes: there is no terminal to confirm on")
        if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
            raise CommandError("Not deleted")
