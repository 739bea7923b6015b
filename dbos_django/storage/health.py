"""The reads of a health probe. No retries: a probe must answer now, not wait for the database."""

from __future__ import annotations

from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max, Min

from ..models import Executor, Workflow


def ping(alias: str) -> None:
    """Run ``SELECT 1``; raise the driver's error if the database does not answer."""
    with connections[alias].cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()


def unapplied_migrations(alias: str) -> list[str]:
    """The migrations of every installed app not yet applied to this database, as ``app.name``."""
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def newest_heartbeat(alias: str) -> int | None:
    """The most recent heartbeat of any executor (epoch ms), or None if there is none."""
    return Executor.objects.using(alias).aggregate(newest=Max("heartbeat_at"))["newest"]


def oldest_since(alias: str, status: str) -> int | None:
    """When the workflow longest in ``status`` entered it (its last status change, epoch ms), or None."""
    return Workflow.objects.using(alias).filter(status=status).aggregate(oldest=Min("updated_at"))["oldest"]
