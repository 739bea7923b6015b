from __future__ import annotations

from django.db import models


class DatabaseQueue(models.Model):
    """A queue declared with ``DBOS.register_queue``: its limits live here and can change at run time."""

    name = models.TextField(primary_key=True)
    concurrency = models.IntegerField(null=True, blank=True)
    worker_concurrency = models.IntegerField(null=True, blank=True)
    rate_limit_max = models.IntegerField(null=True, blank=True)
    rate_limit_period_sec = models.FloatField(null=True, blank=True)
    partition_concurrency = models.IntegerField(null=True, blank=True)
    partition_worker_concurrency = models.IntegerField(null=True, blank=True)
    partition_rate_limit_max = models.IntegerField(null=True, blank=True)
    partition_rate_limit_period_sec = models.FloatField(null=True, blank=True)
    polling_interval_sec = models.FloatField(default=1.0)
    application_name = models.TextField(null=True, blank=True)
    created_at = models.BigIntegerField()
    updated_at = models.BigIntegerField()

    class Meta:
        db_table = "dbos_queue"
        verbose_name = "queue"

    def __str__(self) -> str:
        return self.name


class Executor(models.Model):
    """A process running workflows (a ``dbos_worker`` or a launched web process), with its heartbeat."""

    executor_id = models.TextField(primary_key=True)
    hostname = models.TextField(blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)
    application_version = models.TextField(blank=True, default="")
    queues = models.TextField(blank=True, default="")
    started_at = models.BigIntegerField()
    heartbeat_at = models.BigIntegerField()
    running = models.IntegerField(default=0)

    class Meta:
        db_table = "dbos_executor"
        verbose_name = "worker"

    def __str__(self) -> str:
        return self.executor_id
