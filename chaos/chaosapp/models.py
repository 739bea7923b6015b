"""What the soak's workflows write with ``@DBOS.transaction``: the rows whose counts the checker verifies.

No unique constraint on purpose: a transaction that ran twice must show up as two rows, not as an error.
"""

from __future__ import annotations

from django.db import models


class LedgerEntry(models.Model):
    """One per order that got past its ``book`` transaction."""

    workflow_id = models.CharField(max_length=100, db_index=True)
    amount = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.workflow_id}: {self.amount}"


class Delivery(models.Model):
    """One per payment message an order received (``DBOS.recv``)."""

    workflow_id = models.CharField(max_length=100, db_index=True)
    token = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.workflow_id}: {self.token}"


class Tick(models.Model):
    """One per run of the cron workflow, with the tick it ran for."""

    workflow_id = models.CharField(max_length=200, db_index=True)
    scheduled_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.scheduled_at:%H:%M:%S} ({self.workflow_id})"
