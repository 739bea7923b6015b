from __future__ import annotations

from django.db import models

from .workflows import Workflow

NULL_TOPIC = "__null__topic__"


class Message(models.Model):
    """A message sent to a workflow (``DBOS.send``), consumed once by ``DBOS.recv``."""

    id = models.BigAutoField(primary_key=True)  # arrival order: recv takes the oldest first
    message_id = models.TextField(unique=True)  # "{idempotency key}::{destination}", or a UUID
    destination = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="messages",
                                    db_column="destination_id")  # fmt: skip
    topic = models.TextField(default=NULL_TOPIC)
    message = models.TextField()
    serialization = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.BigIntegerField()
    consumed = models.BooleanField(default=False)

    class Meta:
        db_table = "dbos_message"
        indexes = [models.Index(fields=["destination", "topic", "id"], condition=models.Q(consumed=False),
                                name="dbos_msg_unconsumed_idx")]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.destination_id}/{self.topic}: {self.message_id}"


class WorkflowEvent(models.Model):
    """The latest value of a workflow's event key (``DBOS.set_event``)."""

    pk = models.CompositePrimaryKey("workflow_id", "key")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="events", db_column="workflow_id")
    key = models.TextField()
    value = models.TextField()
    serialization = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        db_table = "dbos_event"

    def __str__(self) -> str:
        return f"{self.workflow_id}/{self.key}"


class WorkflowEventHistory(models.Model):
    """Every value an event took, by the step that set it: what a fork sees as of its start step."""

    pk = models.CompositePrimaryKey("workflow_id", "function_id", "key")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="event_history",
                                 db_column="workflow_id")  # fmt: skip
    function_id = models.IntegerField()
    key = models.TextField()
    value = models.TextField()
    serialization = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        db_table = "dbos_event_history"

    def __str__(self) -> str:
        return f"{self.workflow_id}/{self.key}@{self.function_id}"


class StreamEntry(models.Model):
    """One value appended to a workflow's stream (``DBOS.write_stream``), in offset order."""

    pk = models.CompositePrimaryKey("workflow_id", "key", "offset")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="stream_entries",
                                 db_column="workflow_id")  # fmt: skip
    key = models.TextField()
    offset = models.IntegerField()
    value = models.TextField()
    serialization = models.CharField(max_length=100, null=True, blank=True)
    function_id = models.IntegerField(default=0)

    class Meta:
        db_table = "dbos_stream"

    def __str__(self) -> str:
        return f"{self.workflow_id}/{self.key}#{self.offset}"
