"""Every checkpoint is a row of one of these models, in the project's own database."""

from .queues import DatabaseQueue, Executor
from .steps import StepOutput, TransactionOutput
from .workflows import TERMINAL_STATUSES, Workflow, WorkflowStatusString

__all__ = ["DatabaseQueue", "Executor", "StepOutput", "TransactionOutput", "TERMINAL_STATUSES", "Workflow", "WorkflowStatusString"]
