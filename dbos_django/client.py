"""``DBOSClient``: for processes that do not run workflows (a web process, a script, another service).

It needs no runtime and never runs a workflow: it enqueues by name, sends, reads events and
streams, and lists and controls workflows, all through the project's own database.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any, Literal, TypedDict

from . import conf
from .context_managers import SetWorkflowID, SetWorkflowTimeout
from .engine import arguments, control, introspection, messaging
from .engine.aio import db, wait_in_thread
from .engine.context import EnqueueOptions as Options
from .engine.context import options, options_scope
from .engine.enqueue import Target, enqueue_id
from .engine.handles import WorkflowHandle, WorkflowHandleAsync
from .error import DBOSInvalidArgumentError, DBOSNonExistentWorkflowError
from .storage.listing import Filters
from .types import StepInfo, WorkflowStatus


class EnqueueOptions(TypedDict, total=False):
    """What ``DBOSClient.enqueue`` needs: the workflow's name and queue, and DBOS's enqueue options."""

    #: The registered name of the workflow (required).
    workflow_name: str
    #: The queue to enqueue it on (required).
    queue_name: str
    #: Its id, as ``SetWorkflowID`` gives it (default: a UUID).
    workflow_id: str
    #: The application version it is pinned to; only workers of that version run it.
    app_version: str
    #: A start-to-close timeout in seconds, as ``SetWorkflowTimeout`` gives it.
    workflow_timeout: float
    #: Seconds it waits DELAYED before it may start.
    delay_seconds: float
    #: At most one workflow of the queue holds a deduplication id until it ends.
    deduplication_id: str
    #: What a deduplicated enqueue does: raise (``"reject"``) or return the holder (``"return-existing"``).
    duplication_policy: Literal["reject", "return-existing"]
    #: From 1 (first) to 2**31-1; without one a workflow runs before those with a priority.
    priority: int
    #: The partition of a partitioned queue (required there).
    queue_partition_key: str
    #: The registered name of the workflow's class, for a method.
    class_name: str
    #: The ``config_name`` of the workflow's ``DBOSConfiguredInstance``, for an instance method.
    instance_name: str


class DBOSClient:
    """Enqueue, message and control workflows from a process that does not run them."""

    def __init__(self, database_url: str | None = None, *, system_database_url: str | None = None,
                 application_database_url: str | None = None, **ignored: Any) -> None:  # fmt: skip
        if database_url or system_database_url or application_database_url:
            warnings.warn(f"DBOSClient database URLs are ignored: dbos_django uses Django's database "
                          f"{conf.get().database!r}", conf.DBOSCompatibilityWarning, stacklevel=2)  # fmt: skip

    def destroy(self) -> None:
        """Nothing to release: the client uses Django's connections."""

    # Enqueue
    def enqueue(self, options: EnqueueOptions, *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
        """Enqueue a workflow by name on a queue; the worker that runs it needs its code, this process does not.

        ``options`` is an :class:`EnqueueOptions` dict naming at least ``workflow_name`` and ``queue_name``. Return a
        handle at once; the call is never checkpointed. Raise ``DBOSInvalidArgumentError`` if either name is missing
        or an option is invalid, and ``DBOSQueueDeduplicatedError`` if another workflow on the queue holds the
        deduplication id (unless ``duplication_policy`` is ``"return-existing"``).
        """
        return WorkflowHandle(_enqueue(options, args, kwargs))

    async def enqueue_async(self, options: EnqueueOptions, *args: Any, **kwargs: Any) -> WorkflowHandleAsync[Any]:
        """Async twin of :meth:`enqueue`; return a :class:`WorkflowHandleAsync`."""
        return WorkflowHandleAsync(await db(_enqueue, options, args, kwargs))

    # Messages, events, streams
    def send(self, destination_id: str, message: Any, topic: str | None = None,
             idempotency_key: str | None = None) -> None:  # fmt: skip
        """Send a message to a workflow on ``topic``; an ``idempotency_key`` makes it happen once per destination.

        Raise ``DBOSNonExistentWorkflowError`` if the destination does not exist.
        """
        messaging.send(destination_id, message, topic, idempotency_key=idempotency_key)

    async def send_async(self, destination_id: str, message: Any, topic: str | None = None,
                         idempotency_key: str | None = None) -> None:  # fmt: skip
        """Async twin of :meth:`send`."""
        await wait_in_thread(self.send, destination_id, message, topic, idempotency_key)

    def get_event(self, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        """Wait for an event of a workflow; return its latest value, or ``None`` after the timeout."""
        return messaging.get_event(workflow_id, key, timeout_seconds)

    async def get_event_async(self, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        """Async twin of :meth:`get_event`: the wait holds no thread."""
        return await messaging.get_event_async(workflow_id, key, timeout_seconds)

    def read_stream(self, workflow_id: str, key: str, *, offset: int = 0,
                    timeout_seconds: float | None = None) -> Iterator[Any]:  # fmt: skip
        """Yield the values of a workflow's stream in order until it is closed or its writer has ended.

        Raise ``DBOSInvalidArgumentError`` for invalid arguments (at the call), ``DBOSNonExistentWorkflowError`` if the
        workflow does not exist, and ``DBOSStreamTimeoutError`` if a value takes longer than ``timeout_seconds``.
        """
        return messaging.read_stream(workflow_id, key, offset=offset, timeout_seconds=timeout_seconds)

    def read_stream_async(self, workflow_id: str, key: str, *, offset: int = 0,
                          timeout_seconds: float | None = None) -> AsyncIterator[Any]:  # fmt: skip
        """Async twin of :meth:`read_stream`: an async iterator (``async for``) whose waits hold no thread."""
        return messaging.read_stream_async(workflow_id, key, offset=offset, timeout_seconds=timeout_seconds)

    # Workflows
    def retrieve_workflow(self, workflow_id: str) -> WorkflowHandle[Any]:
        """Return a handle on a workflow by id; raise ``DBOSNonExistentWorkflowError`` if there is none."""
        if introspection.get_status(workflow_id) is None:
            raise DBOSNonExistentWorkflowError(workflow_id)
        return WorkflowHandle(workflow_id)

    async def retrieve_workflow_async(self, workflow_id: str) -> WorkflowHandleAsync[Any]:
        """Async twin of :meth:`retrieve_workflow`; return a :class:`WorkflowHandleAsync`."""
        return WorkflowHandleAsync((await db(self.retrieve_workflow, workflow_id)).workflow_id)

    def list_workflows(self, *, load_input: bool = True, load_output: bool = True, **filters: Any) -> list[WorkflowStatus]:
        """Return the workflows matching every filter given, as :meth:`DBOS.list_workflows` does."""
        return introspection.list_workflows(Filters(**filters), load_input=load_input, load_output=load_output)

    async def list_workflows_async(self, *, load_input: bool = True, load_output: bool = True,
                                   **filters: Any) -> list[WorkflowStatus]:  # fmt: skip
        """Async twin of :meth:`list_workflows`."""
        return await db(self.list_workflows, load_input=load_input, load_output=load_output, **filters)

    def list_queued_workflows(self, *, load_input: bool = True, load_output: bool = True,
                              **filters: Any) -> list[WorkflowStatus]:  # fmt: skip
        """Return the queued workflows, as :meth:`DBOS.list_queued_workflows` does."""
        return introspection.list_workflows(Filters(**filters, queues_only=True), load_input=load_input,
                                            load_output=load_output)  # fmt: skip

    async def list_queued_workflows_async(self, *, load_input: bool = True, load_output: bool = True,
                                          **filters: Any) -> list[WorkflowStatus]:  # fmt: skip
        """Async twin of :meth:`list_queued_workflows`."""
        return await db(self.list_queued_workflows, load_input=load_input, load_output=load_output, **filters)

    def list_workflow_steps(self, workflow_id: str) -> list[StepInfo]:
        """Return every checkpoint of a workflow, in order."""
        return introspection.list_steps(workflow_id)

    async def list_workflow_steps_async(self, workflow_id: str) -> list[StepInfo]:
        """Async twin of :meth:`list_workflow_steps`."""
        return await db(introspection.list_steps, workflow_id)

    def cancel_workflow(self, workflow_id: str, *, cancel_children: bool = False) -> None:
        """Cancel a workflow (and, with ``cancel_children``, its descendants), as :meth:`DBOS.cancel_workflows` does."""
        control.cancel([workflow_id], cancel_children=cancel_children)

    async def cancel_workflow_async(self, workflow_id: str, *, cancel_children: bool = False) -> None:
        """Async twin of :meth:`cancel_workflow`."""
        await db(self.cancel_workflow, workflow_id, cancel_children=cancel_children)

    def resume_workflow(self, workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandle[Any]:
        """Resume a workflow from its last checkpoint, as :meth:`DBOS.resume_workflows` does; return a handle on it.

        Raise ``DBOSNonExistentWorkflowError`` for an unknown id and ``DBOSInvalidArgumentError`` for an unknown queue.
        """
        return control.resume(workflow_id, queue_name=queue_name)

    async def resume_workflow_async(self, workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandleAsync[Any]:
        """Async twin of :meth:`resume_workflow`; return a :class:`WorkflowHandleAsync`."""
        return WorkflowHandleAsync((await db(self.resume_workflow, workflow_id, queue_name=queue_name)).workflow_id)

    def fork_workflow(self, workflow_id: str, start_step: int, *, application_version: str | None = None,
                      queue_name: str | None = None) -> WorkflowHandle[Any]:  # fmt: skip
        """Start a new workflow that reuses the checkpoints before ``start_step``, as :meth:`DBOS.fork_workflow` does.

        Raise ``DBOSInvalidArgumentError`` for a step below 1 or an unknown queue, and ``DBOSNonExistentWorkflowError``
        for an unknown workflow.
        """
        return control.fork(workflow_id, start_step, application_version=application_version, queue_name=queue_name)

    async def fork_workflow_async(self, workflow_id: str, start_step: int, *, application_version: str | None = None,
                                  queue_name: str | None = None) -> WorkflowHandleAsync[Any]:  # fmt: skip
        """Async twin of :meth:`fork_workflow`; return a :class:`WorkflowHandleAsync`."""
        handle = await db(self.fork_workflow, workflow_id, start_step, application_version=application_version,
                          queue_name=queue_name)  # fmt: skip
        return WorkflowHandleAsync(handle.workflow_id)

    def delete_workflow(self, workflow_id: str, *, delete_children: bool = False) -> None:
        """Delete a workflow and its checkpoints (and, with ``delete_children``, its descendants)."""
        control.delete([workflow_id], delete_children=delete_children)

    async def delete_workflow_async(self, workflow_id: str, *, delete_children: bool = False) -> None:
        """Async twin of :meth:`delete_workflow`."""
        await db(self.delete_workflow, workflow_id, delete_children=delete_children)


def _enqueue(opts: EnqueueOptions, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Enqueue by name, with the options given (client enqueues are pinned to no version unless asked)."""
    if not isinstance(opts, dict):
        raise DBOSInvalidArgumentError(f"Invalid enqueue options {opts!r}: pass a dict with at least "
                                       "'workflow_name' and 'queue_name'")  # fmt: skip
    arguments.text(opts.get("workflow_name"), "workflow_name")
    arguments.text(opts.get("queue_name"), "queue_name")
    target = Target(opts["workflow_name"], args, opts.get("class_name"), opts.get("instance_name"))
    engine_options = Options(
        deduplication_id=opts.get("deduplication_id"), priority=opts.get("priority"),
        app_version=opts.get("app_version"), queue_partition_key=opts.get("queue_partition_key"),
        delay_seconds=opts.get("delay_seconds"), duplication_policy=opts.get("duplication_policy", "reject"),
    )  # fmt: skip
    with ExitStack() as scope:
        if "workflow_id" in opts:
            scope.enter_context(SetWorkflowID(opts["workflow_id"]))
        if opts.get("workflow_timeout"):
            scope.enter_context(SetWorkflowTimeout(opts["workflow_timeout"]))
        scope.enter_context(options_scope(dataclasses.replace(options(), enqueue=engine_options)))  # type: ignore[arg-type]
        return enqueue_id(opts["queue_name"], target, kwargs, None)
