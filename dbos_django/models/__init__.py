"""Every checkpoint is a row of one of these models, in the project's own database."""

from .steps import StepOutput, TransactionOutput
from .workflows import TERMINAL_STATUSES, Workflow, WorkflowStatusString

__all__ = ["StepOutput", "TransactionOutput", "TERMINAL_STATUSES", "Workflow", "WorkflowStatusString"]
