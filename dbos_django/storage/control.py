"""Workflow control: cancel, resume, fork, delete. Each is one short transaction of conditional writes."""

from __future__ import annotations

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from ..error import DBOSNonExistentWorkflowError
from ..models import StepOutput, TransactionOutput, Workflow
from . import connections as conns
from . import messages
from .queues import INTERNAL_QUEUE

FINISHED = ("SUCCESS", "ERROR")
WAITING = ("PENDING", "ENQUEUED", "DELAYED")


def with_children(alias: str, workflow_ids: list[str]) -> list[str]:
    """The ids given and, breadth first, every descendant by ``parent_workflow_id``."""
    found, frontier = list(dict.fromkeys(workflow_ids)), list(workflow_ids)
    while frontier:
        children = _children(alias, frontier)
        frontier = [child for child in children if child not in found]
        found.extend(frontier)
    return found


def _children(alias: str, parents: list[str]) -> list[str]:
    query = Workflow.objects.using(alias).filter(parent_workflow_id__in=parents).values_list("workflow_id", flat=True)
    return conns.run(alias, lambda c: list(query))


def cancel(alias: str, workflow_ids: list[str], now_ms: int) -> int:
    """Cancel every workflow that has not finished; leave its queue so it no longer counts toward limits."""
    query = Workflow.objects.using(alias).filter(workflow_id__in=workflow_ids).exclude(status__in=FINISHED)
    return conns.run(alias, lambda c: query.update(status="CANCELLED", queue_name=None, deduplication_id=None,
                                                   started_at=None, completed_at=now_ms, updated_at=now_ms))  # fmt: skip


def resume(alias: str, workflow_id: str, queue_name: str | None, now_ms: int) -> None:
    """Put an unfinished workflow back on a queue, with its recovery attempts and deadline reset."""

    def op(conn: BaseDatabaseWrapper) -> None:
        rows = Workflow.objects.using(alias).filter(workflow_id=workflow_id)
        if not rows.exists():
            raise DBOSNonExistentWorkflowError(workflow_id)
        rows.exclude(status__in=FINISHED).update(
            status="ENQUEUED", queue_name=queue_name or INTERNAL_QUEUE, recovery_attempts=0,
            workflow_deadline_epoch_ms=None, deduplication_id=None, started_at=None, completed_at=None,
            updated_at=now_ms,
        )  # fmt: skip

    conns.run(alias, op, what=f"resuming workflow {workflow_id}")


def fork(alias: str, workflow_id: str, start_step: int, *, new_id: str, application_version: str | None,
         queue_name: str | None, queue_partition_key: str | None, timeout_ms: int | None, now_ms: int) -> None:  # fmt: skip
    """A new ENQUEUED workflow with the original's inputs and the checkpoints before ``start_step``."""

    def op(conn: BaseDatabaseWrapper) -> None:
        with transaction.atomic(using=alias):
            original = Workflow.objects.using(alias).filter(workflow_id=workflow_id).first()
            if original is None:
                raise DBOSNonExistentWorkflowError(workflow_id)
            Workflow.objects.using(alias).create(
                workflow_id=new_id, status="ENQUEUED", name=original.name, class_name=original.class_name,
                config_name=original.config_name, inputs=original.inputs, serialization=original.serialization,
                authenticated_user=original.authenticated_user, assumed_role=original.assumed_role,
                authenticated_roles=original.authenticated_roles, application_version=application_version,
                application_name=original.application_name, created_at=now_ms, updated_at=now_ms,
                recovery_attempts=0, forked_from=workflow_id, queue_name=queue_name or INTERNAL_QUEUE,
                queue_partition_key=queue_partition_key, workflow_timeout_ms=timeout_ms,
                parent_workflow_id=original.parent_workflow_id,
            )  # fmt: skip
            StepOutput.objects.using(alias).bulk_create(
                StepOutput(workflow_id=new_id, function_id=s.function_id, function_name=s.function_name,
                           output=s.output, error=s.error, child_workflow_id=s.child_workflow_id,
                           started_at_epoch_ms=s.started_at_epoch_ms, completed_at_epoch_ms=s.completed_at_epoch_ms)
                for s in StepOutput.objects.using(alias).filter(workflow_id=workflow_id, function_id__lt=start_step)
            )  # fmt: skip
            messages.copy_for_fork(conn, workflow_id, new_id, start_step)

    conns.run(alias, op, what=f"forking workflow {workflow_id}")


def delete(alias: str, workflow_ids: list[str]) -> int:
    """Delete workflows with their checkpoints (and their transaction outputs in this database)."""

    def op(conn: BaseDatabaseWrapper) -> int:
        with transaction.atomic(using=alias):
            TransactionOutput.objects.using(alias).filter(workflow_id__in=workflow_ids).delete()
            StepOutput.objects.using(alias).filter(workflow_id__in=workflow_ids).delete()
            return Workflow.objects.using(alias).filter(workflow_id__in=workflow_ids).delete()[0]

    return conns.run(alias, op, what="deleting workflows")


def first_done(alias: str, workflow_ids: list[str]) -> str | None:
    """One of the workflows that is no longer waiting or running, if any."""
    query = Workflow.objects.using(alias).filter(workflow_id__in=workflow_ids).exclude(status__in=WAITING)
    return conns.run(alias, lambda c: query.values_list("workflow_id", flat=True).first())


def move_to_version(alias: str, workflow_ids: list[str], version: str, now_ms: int) -> int:
    """Give waiting or stranded workflows another application version; PENDING ones go back to a queue."""

    def op(conn: BaseDatabaseWrapper) -> int:
        with transaction.atomic(using=alias):
            rows = Workflow.objects.using(alias).filter(workflow_id__in=workflow_ids)
            moved = rows.filter(status__in=("ENQUEUED", "DELAYED")).update(application_version=version,
                                                                           updated_at=now_ms)  # fmt: skip
            pending = rows.filter(status="PENDING")
            moved += pending.filter(queue_name=None).update(
                application_version=version, status="ENQUEUED", queue_name=INTERNAL_QUEUE, started_at=None,
                updated_at=now_ms)  # fmt: skip
            return moved + pending.update(application_version=version, status="ENQUEUED", started_at=None,
                                          updated_at=now_ms)  # fmt: skip

    return conns.run(alias, op, what="moving workflows to another application version")


def stranded_versions(alias: str, live_versions: set[str]) -> dict[str, int]:
    """Waiting or running workflows pinned to a version no live worker runs: version -> how many."""
    from django.db.models import Count

    query = (Workflow.objects.using(alias).filter(status__in=WAITING, application_version__isnull=False)
             .exclude(application_version__in=live_versions).values("application_version")
             .annotate(n=Count("pk")).order_by("application_version")[:20])  # fmt: skip
    return conns.run(alias, lambda c: {row["application_version"]: row["n"] for row in query})
