from __future__ import annotations

from django.db import models
from django.db.models import Q


class WorkflowStatusString(models.TextChoices):
    """The states of a workflow, as DBOS names them."""

    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    MAX_RECOVERY_ATTEMPTS_EXCEEDED = "MAX_RECOVERY_ATTEMPTS_EXCEEDED"
    CANCELLED = "CANCELLED"
    ENQUEUED = "ENQUEUED"
    DELAYED = "DELAYED"


TERMINAL_STATUSES = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


class Workflow(models.Model):
    """One row per workflow: what it is, who runs it, and how it ended. Times are epoch ms."""

    workflow_id = models.TextField(primary_key=True)
    status = models.CharField(max_length=40, choices=WorkflowStatusString.choices)
    name = models.TextField()
    class_name = models.TextField(null=True, blank=True)
    config_name = models.TextField(null=True, blank=True)
    inputs = models.TextField(null=True, blank=True)
    output = models.TextField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    serialization = models.CharField(max_length=100, null=True, blank=True)
    executor_id = models.TextField(null=True, blank=True)
    application_version = models.TextField(null=True, blank=True)
    application_name = models.TextField(null=True, blank=True)
    authenticated_user = models.TextField(null=True, blank=True)
    assumed_role = models.TextField(null=True, blank=True)
    authenticated_roles = models.TextField(null=True, blank=True)
    created_at = models.BigIntegerField()
    updated_at = models.BigIntegerField()
    started_at = models.BigIntegerField(null=True, blank=True)
    completed_at = models.BigIntegerField(null=True, blank=True)
    recovery_attempts = models.IntegerField(default=0)
    workflow_timeout_ms = models.BigIntegerField(null=True, blank=True)
    workflow_deadline_epoch_ms = models.BigIntegerField(null=True, blank=True)
    parent_workflow_id = models.TextField(null=True, blank=True)
    forked_from = models.TextField(null=True, blank=True)
    # A random token per start attempt: only the attempt whose token is stored runs the body.
    owner_xid = models.TextField(null=True, blank=True)
    # Bumped by every claim (dequeue, takeover): checkpoints of an older owner are refused.
    owner_epoch = models.IntegerField(default=0, db_default=0)
    queue_name = models.TextField(null=True, blank=True)
    deduplication_id = models.TextField(null=True, blank=True)
    priority = models.IntegerField(default=0)
    queue_partition_key = models.TextField(null=True, blank=True)
    delay_until_epoch_ms = models.BigIntegerField(null=True, blank=True)
    # Debouncer: the start of a debounced workflow is pushed back by later calls, up to this deadline.
    is_debounced = models.BooleanField(default=False, db_default=False)
    debounce_deadline_epoch_ms = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "dbos_workflow_status"
        verbose_name = "workflow"
        indexes = [
            models.Index(fields=["created_at"], name="dbos_wf_created_idx"),
            models.Index(
                fields=["executor_id", "application_version"],
                condition=Q(status="PENDING"),
                name="dbos_wf_pending_idx",
            ),
            models.Index(
                fields=["parent_workflow_id"],
                condition=Q(parent_workflow_id__isnull=False),
                name="dbos_wf_parent_idx",
            ),
            models.Index(
                fields=["forked_from"], condition=Q(forked_from__isnull=False), name="dbos_wf_forked_idx"
            ),
            # Claiming (the next ENQUEUED rows of a queue, by priority, age, then order of insertion) has its
            # index in migration 0008: its last key, the insertion order, differs by database.
            # Global concurrency: the PENDING rows of a queue.
            models.Index(fields=["queue_name"], condition=Q(status="PENDING"), name="dbos_wf_queue_pending_idx"),
            # Rate limits: the rows of a queue started in the last period.
            models.Index(
                fields=["queue_name", "started_at"], condition=Q(started_at__isnull=False), name="dbos_wf_started_idx"
            ),
            models.Index(fields=["delay_until_epoch_ms"], condition=Q(status="DELAYED"), name="dbos_wf_delayed_idx"),
            # The admin's filters, each in the list's order (newest first, then by id): these columns follow
            # time (a worker, a version, a queue is used for a while), so a walk of dbos_wf_created_idx to
            # find a filter's rows could read most of the table, and the planner takes that walk unless an
            # index gives the whole order. SUCCESS, the bulk of the table, is left out of the status index:
            # its rows are found by the walk, and finishing a workflow adds no entry there.
            models.Index(fields=["status", "created_at", "workflow_id"], condition=~Q(status="SUCCESS"),
                         name="dbos_wf_status_idx"),
            models.Index(fields=["name", "created_at", "workflow_id"], name="dbos_wf_name_idx"),
            models.Index(fields=["queue_name", "created_at", "workflow_id"], condition=Q(queue_name__isnull=False),
                         name="dbos_wf_queue_idx"),
            models.Index(fields=["executor_id", "created_at", "workflow_id"], condition=Q(executor_id__isnull=False),
                         name="dbos_wf_executor_idx"),
            models.Index(fields=["application_version", "created_at", "workflow_id"],
                         condition=Q(application_version__isnull=False), name="dbos_wf_version_idx"),
        ]
        # The admin's workflow actions (delete is Django's own delete permission).
        permissions = [
            ("cancel_workflow", "Can cancel workflows"),
            ("resume_workflow", "Can resume workflows"),
            ("restart_workflow", "Can restart workflows"),
            ("fork_workflow", "Can fork workflows from a step"),
            ("move_workflow", "Can run workflows pinned to an old version on the current version"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["queue_name", "deduplication_id"],
                condition=Q(deduplication_id__isnull=False),
                name="dbos_wf_dedup_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.workflow_id} ({self.status})"
