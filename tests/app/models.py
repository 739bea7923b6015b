from django.db import models


class SideEffect(models.Model):
    """A row per execution of a step body: counting them proves a step ran once."""

    key = models.TextField()
    created = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return self.key


class Account(models.Model):
    name = models.TextField(unique=True)
    balance = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.balance}"


class BodyRun(models.Model):
    """A row per execution of a workflow or step body in a worker process (tests/test_workers.py).

    ``step`` is empty for a workflow body; ``started`` and ``ended`` are ``time.time()`` seconds.
    """

    workflow_id = models.TextField()
    step = models.TextField(default="")
    pid = models.IntegerField()
    started = models.FloatField()
    ended = models.FloatField(null=True)

    def __str__(self) -> str:
        return f"{self.workflow_id}:{self.step} by {self.pid}"
