"""Every checkpoint is a row of one of these models, in the project's own database."""

from .messages import NULL_TOPIC, Message, StreamEntry, WorkflowEvent, WorkflowEventHistory
from .queues import DatabaseQueue, Executor
from .schedules import Schedule
from .steps import StepOutput, TransactionOutput
from .workflows import TERMINAL_STATUSES, Workflow, WorkflowStatusString

__all__ = [
    "NULL_TOPIC",
    "Schedule",
    "DatabaseQueue",
    "Executor",
    "Message",
    "StreamEntry",
    "WorkflowEvent",
    "WorkflowEventHistory",
    "StepOutput",
    "TransactionOutput",
    "TERMINAL_STATUSES",
    "Workflow",
    "WorkflowStatusString",
]
