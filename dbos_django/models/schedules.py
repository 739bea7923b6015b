from __future__ import annotations

from django.db import models


class Schedule(models.Model):
    """A cron schedule that starts a workflow at each tick: from ``@DBOS.scheduled`` or ``DBOS.create_schedule``."""

    ACTIVE, PAUSED = "ACTIVE", "PAUSED"

    schedule_id = models.TextField(primary_key=True)
    schedule_name = models.TextField(unique=True)
    workflow_name = models.TextField()
    workflow_class_name = models.TextField(null=True, blank=True)
    schedule = models.TextField(help_text="cron: 5 fields, or 6 with seconds first")
    status = models.CharField(max_length=10, default=ACTIVE, choices=[(ACTIVE, ACTIVE), (PAUSED, PAUSED)])
    context = models.TextField(default="null")
    last_fired_at = models.BigIntegerField(null=True, blank=True, help_text="epoch ms of the latest tick started")
    automatic_backfill = models.BooleanField(default=False)
    cron_timezone = models.TextField(null=True, blank=True)
    queue_name = models.TextField(null=True, blank=True)
    application_name = models.TextField(null=True, blank=True)
    # "decorator": declared with @DBOS.scheduled, called (scheduled_time, actual_time);
    # "dynamic": created at run time, called (scheduled_time, context).
    kind = models.CharField(max_length=10, default="dynamic")
    created_at = models.BigIntegerField()

    class Meta:
        db_table = "dbos_schedule"
        indexes = [models.Index(fields=["status"], name="dbos_schedule_status_idx")]

    def __str__(self) -> str:
        return f"{self.schedule_name} ({self.schedule})"
