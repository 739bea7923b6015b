from __future__ import annotations

from django.db import models

from .workflows import Workflow


class StepOutput(models.Model):
    """One row per checkpointed operation of a workflow: its output or its error."""

    pk = models.CompositePrimaryKey("workflow_id", "function_id")
    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="steps", db_column="workflow_id"
    )
    function_id = models.IntegerField()
    function_name = models.TextField()
    output = models.TextField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    child_workflow_id = models.TextField(null=True, blank=True)
    started_at_epoch_ms = models.BigIntegerField(null=True, blank=True)
    completed_at_epoch_ms = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "dbos_step_output"
        ordering = ["workflow_id", "function_id"]

    def __str__(self) -> str:
        return f"{self.workflow_id} #{self.function_id} {self.function_name}"


class TransactionOutput(models.Model):
    """The output of a ``@DBOS.transaction``, committed with its writes in the database they go to.

    Only used when that database is not the one holding the workflow's checkpoints: otherwise
    the step row itself commits in the user's transaction.
    """

    pk = models.CompositePrimaryKey("workflow_id", "function_id")
    workflow_id = models.TextField()
    function_id = models.IntegerField()
    function_name = models.TextField()
    output = models.TextField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    created_at = models.BigIntegerField()

    class Meta:
        db_table = "dbos_transaction_output"

    def __str__(self) -> str:
        return f"{self.workflow_id} #{self.function_id} {self.function_name}"
