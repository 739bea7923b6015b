from django.db import models


class Ledger(models.Model):
    """One row per side effect of the demo workflow: it shows each step ran once."""

    workflow_id = models.TextField()
    step = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.workflow_id}: {self.step}"
