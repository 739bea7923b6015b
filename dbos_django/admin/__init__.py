"""The Django admin for DBOS: workflows (with their actions), queues, workers and schedules.

The admin reads through the ORM and acts only through the engine's functions; stored values are
shown with ``serialization.describe``, never unpickled.
"""

from __future__ import annotations

from django.contrib import admin

from ..models import DatabaseQueue, Executor, Schedule, Workflow
from .queues import QueueAdmin
from .schedules import ScheduleAdmin
from .workers import WorkerAdmin
from .workflows import WorkflowAdmin

admin.site.register(Workflow, WorkflowAdmin)
admin.site.register(DatabaseQueue, QueueAdmin)
admin.site.register(Executor, WorkerAdmin)
admin.site.register(Schedule, ScheduleAdmin)

__all__ = ["QueueAdmin", "ScheduleAdmin", "WorkerAdmin", "WorkflowAdmin"]
