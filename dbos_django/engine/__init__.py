"""Execution: workflows, steps, transactions, recovery. Internal; use ``dbos_django.DBOS``."""
