"""No migrations module: ``migrate --run-syncdb`` creates the table directly."""

from __future__ import annotations

from django.db import models


class BenchRow(models.Model):
    """A row written by the transaction of workload (d)."""

    payload = models.TextField()

    def __str__(self) -> str:
        return self.payload
