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
