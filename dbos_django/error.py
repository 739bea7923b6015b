"""Exceptions raised by dbos_django, with DBOS's class names and error codes."""

from __future__ import annotations

from typing import Any


class DBOSException(Exception):
    """Base class of the errors dbos_django raises on purpose."""

    #: The HTTP status that fits the error, for code that turns it into a response (``None``: no particular one).
    status_code: int | None = None

    def __init__(self, message: str, dbos_error_code: int | None = None) -> None:
        self.message = message
        self.dbos_error_code = dbos_error_code
        super().__init__(message)

    def __str__(self) -> str:
        if self.dbos_error_code is not None:
            return f"DBOS Error {self.dbos_error_code}: {self.message}"
        return f"DBOS Error: {self.message}"

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.__dict__.copy()))


class DBOSBaseException(BaseException):
    """Base of the errors that must not be caught by a user's ``except Exception``."""

    def __init__(self, message: str, dbos_error_code: int | None = None) -> None:
        self.message = message
        self.dbos_error_code = dbos_error_code
        super().__init__(message)

    def __str__(self) -> str:
        return f"DBOS Error {self.dbos_error_code}: {self.message}"

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[BaseException], state: dict[str, Any]) -> BaseException:
    """Recreate an error from its attributes (errors are pickled into checkpoints)."""
    err = cls.__new__(cls)
    BaseException.__init__(err, state.get("message"))
    err.__dict__.update(state)
    return err


class DBOSWorkflowConflictIDError(DBOSBaseException):
    """Another execution of the same workflow recorded this step first."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(
            f"Conflicting workflow ID {workflow_id}: another execution recorded this step first", 1
        )
        self.workflow_id = workflow_id


class DBOSRecoveryError(DBOSException):
    """A workflow could not be recovered."""

    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        super().__init__(f"Recovery error for workflow ID {workflow_id}: {message}", 2)
        self.workflow_id = workflow_id


class DBOSInitializationError(DBOSException):
    """The configuration is wrong or the runtime cannot start."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Error initializing DBOS: {message}", 3)


class DBOSWorkflowFunctionNotFoundError(DBOSException):
    """A workflow's function is not registered in this process."""

    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        super().__init__(f"Workflow function not found for workflow ID {workflow_id}: {message}", 4)
        self.workflow_id = workflow_id


class DBOSNonExistentWorkflowError(DBOSException):
    """No workflow has this id."""

    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        text = f"Workflow {workflow_id} does not exist"
        super().__init__(f"{text}: {message}" if message else text, 5)
        self.workflow_id = workflow_id


class MaxRecoveryAttemptsExceededError(DBOSException):
    """A workflow was recovered more often than its ``max_recovery_attempts``."""

    def __init__(self, workflow_id: str, max_retries: int) -> None:
        super().__init__(
            f"Workflow {workflow_id} has exceeded its maximum of {max_retries} execution or "
            "recovery attempts. Further attempts to execute or recover it will fail.",
            6,
        )
        self.workflow_id = workflow_id
        self.max_retries = max_retries


class DBOSMaxStepRetriesExceeded(DBOSException):
    """A step failed on every one of its attempts; ``errors`` holds each attempt's error."""

    def __init__(self, step_name: str, max_retries: int, errors: list[BaseException]) -> None:
        super().__init__(f"Step {step_name} has exceeded its maximum of {max_retries} retries", 7)
        self.step_name = step_name
        self.max_retries = max_retries
        self.errors = errors


class DBOSNotAuthorizedError(DBOSException):
    """The caller does not hold a role the function requires."""

    #: 403 Forbidden.
    status_code = 403

    def __init__(self, msg: str) -> None:
        super().__init__(msg, 8)


class DBOSConflictingWorkflowError(DBOSException):
    """A workflow id is already used by a different function."""

    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        super().__init__(f"Conflicting workflow invocation with the same ID ({workflow_id}): {message}", 9)
        self.workflow_id = workflow_id


class DBOSWorkflowCancelledError(DBOSBaseException):
    """Raised inside a cancelled workflow at its next checkpoint."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg, 10)


class DBOSUnexpectedStepError(DBOSException):
    """Replay found a different function recorded at this step."""

    def __init__(self, workflow_id: str, step_id: int, expected_name: str, recorded_name: str) -> None:
        super().__init__(
            f"During execution of workflow {workflow_id} step {step_id}, function {recorded_name} "
            f"was recorded when {expected_name} was expected. Check that your workflow is deterministic.",
            11,
        )
        self.workflow_id = workflow_id
        self.step_id = step_id
        self.expected_name = expected_name
        self.recorded_name = recorded_name


class DBOSQueueDeduplicatedError(DBOSException):
    """Another workflow on the queue holds the same deduplication id."""

    def __init__(self, workflow_id: str, queue_name: str, deduplication_id: str) -> None:
        super().__init__(
            f"Workflow {workflow_id} was deduplicated due to an existing workflow in queue {queue_name} "
            f"with deduplication ID {deduplication_id}.",
            12,
        )
        self.workflow_id = workflow_id
        self.queue_name = queue_name
        self.deduplication_id = deduplication_id


class DBOSAwaitedWorkflowCancelledError(DBOSException):
    """The awaited workflow was cancelled."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"Awaited workflow {workflow_id} was cancelled", 13)
        self.workflow_id = workflow_id


class DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded(DBOSException):
    """The awaited workflow was dead-lettered after too many recovery attempts."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"Awaited workflow {workflow_id} exceeded its maximum recovery attempts", 14)
        self.workflow_id = workflow_id


class DBOSConflictingRegistrationError(DBOSException):
    """One name was registered both as a workflow and as a step or transaction, or by two workflows."""

    def __init__(self, name: str, message: str | None = None) -> None:
        super().__init__(message or f"Operation (Name: {name}) is already registered with a conflicting function type", 25)


class DBOSSerializationError(DBOSException, TypeError):
    """A value cannot be stored with the configured serializer."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 26)


class DBOSPayloadTooLargeError(DBOSSerializationError):
    """A serialized value is larger than ``DBOS["MAX_PAYLOAD_BYTES"]``; nothing was written."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"{what} is {size} bytes once serialized, over the limit of {limit} bytes "
            "(DBOS['MAX_PAYLOAD_BYTES']): store the data elsewhere (a model, a file) and pass a reference to it"
        )
        self.what = what
        self.size = size
        self.limit = limit


class DBOSInvalidArgumentError(DBOSException, ValueError):
    """An argument of a DBOS call is invalid (the message names it); nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class PortableWorkflowError(Exception):
    """What a JSON-serialized error reads back as: its class name and message."""

    def __init__(self, message: str, name: str, code: Any = None, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.code = code
        self.data = data

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"

    def __reduce__(self) -> Any:
        return (PortableWorkflowError, (self.message, self.name, self.code, self.data))


class DBOSStreamTimeoutError(DBOSException):
    """A stream value did not arrive in time, or the stream ended before the offset."""

    def __init__(self, workflow_id: str, key: str, offset: int) -> None:
        super().__init__(f"Timed out reading stream {key} of workflow {workflow_id} at offset {offset}", 16)
        self.workflow_id = workflow_id
        self.key = key
        self.offset = offset
