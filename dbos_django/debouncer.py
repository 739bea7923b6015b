"""``Debouncer`` and ``DebouncerClient``: start a workflow once per burst of calls (as DBOS)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .decorators import workflow_call
from .engine import debounce as engine
from .engine.aio import db
from .engine.enqueue import Target
from .engine.handles import WorkflowHandle, WorkflowHandleAsync
from .error import DBOSException
from .queue import Queue

if TYPE_CHECKING:
    from .client import DBOSClient, EnqueueOptions


def _queue_name(queue: Queue | str | None) -> str | None:
    return queue.name if isinstance(queue, Queue) else queue


class Debouncer:
    """Debounce one workflow: ``debounce(key, period, *args)`` calls within ``period`` start it once."""

    def __init__(self, workflow: Callable[..., Any], debounce_timeout_sec: float | None, queue: Queue | str | None) -> None:
        self.workflow = workflow
        self.debounce_timeout_sec = debounce_timeout_sec
        self.queue_name = _queue_name(queue)

    @classmethod
    def create(cls, workflow: Callable[..., Any], *, debounce_timeout_sec: float | None = None,
               queue: Queue | str | None = None) -> Debouncer:  # fmt: skip
        """Return a debouncer for ``workflow``: the start waits at most ``debounce_timeout_sec`` after the first call.

        ``queue`` (a :class:`Queue` or its name) is where the workflow runs; default: DBOS's internal queue. Raise
        ``TypeError`` for a bound method and ``DBOSException`` if ``workflow`` is not a workflow.
        """
        if inspect.ismethod(workflow):
            raise TypeError("Debouncer.create() takes a workflow function, not a bound method")
        workflow_call(workflow, ())  # raises if it is not a workflow
        return cls(workflow, debounce_timeout_sec, queue)

    @classmethod
    async def create_async(cls, workflow: Callable[..., Any], *, debounce_timeout_sec: float | None = None,
                           queue: Queue | str | None = None) -> Debouncer:  # fmt: skip
        """Async twin of :meth:`create`."""
        return cls.create(workflow, debounce_timeout_sec=debounce_timeout_sec, queue=queue)

    def debounce(self, debounce_key: str, debounce_period_sec: float, *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
        """Start the workflow ``debounce_period_sec`` after the last call for this key, with its inputs.

        The first call enqueues the workflow DELAYED; each later call within the delay pushes its start back and
        replaces its inputs, and returns a handle on the same workflow. One step in a workflow. Raise
        ``DBOSException`` for a negative period or if :class:`SetEnqueueOptions` sets a deduplication id, delay,
        priority, partition key or duplication policy, and ``DBOSQueueDeduplicatedError`` if the key's
        deduplication id is held by a workflow that is not this debounced one.
        """
        info, full_args = workflow_call(self.workflow, args)
        workflow_id = engine.debounce(Target.of(info, full_args), self.queue_name, debounce_key, debounce_period_sec,
                                      self.debounce_timeout_sec, kwargs)  # fmt: skip
        return WorkflowHandle(workflow_id)

    async def debounce_async(self, debounce_key: str, debounce_period_sec: float, *args: Any,
                             **kwargs: Any) -> WorkflowHandleAsync[Any]:  # fmt: skip
        """Async twin of :meth:`debounce`; return a :class:`WorkflowHandleAsync`."""
        handle = await db(self.debounce, debounce_key, debounce_period_sec, *args, **kwargs)
        return WorkflowHandleAsync(handle.workflow_id)


class DebouncerClient:
    """``Debouncer`` for processes that only hold a ``DBOSClient``: the workflow is named in ``workflow_options``."""

    def __init__(self, client: DBOSClient, workflow_options: EnqueueOptions, *, debounce_timeout_sec: float | None = None,
                 queue: Queue | str | None = None) -> None:  # fmt: skip
        if "workflow_name" not in workflow_options:
            raise DBOSException("DebouncerClient needs workflow_options['workflow_name']")
        self.client = client
        self.options = workflow_options
        self.debounce_timeout_sec = debounce_timeout_sec
        self.queue_name = _queue_name(queue) or workflow_options.get("queue_name")

    def debounce(self, debounce_key: str, debounce_period_sec: float, *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
        """Start the named workflow ``debounce_period_sec`` after the last call for this key, with its inputs.

        It works, and raises, as :meth:`Debouncer.debounce` does.
        """
        target = Target(self.options["workflow_name"], args, self.options.get("class_name"),
                        self.options.get("instance_name"))  # fmt: skip
        workflow_id = engine.debounce(target, self.queue_name, debounce_key, debounce_period_sec,
                                      self.debounce_timeout_sec, kwargs)  # fmt: skip
        return WorkflowHandle(workflow_id)

    async def debounce_async(self, debounce_key: str, debounce_period_sec: float, *args: Any,
                             **kwargs: Any) -> WorkflowHandleAsync[Any]:  # fmt: skip
        """Async twin of :meth:`debounce`; return a :class:`WorkflowHandleAsync`."""
        handle = await db(self.debounce, debounce_key, debounce_period_sec, *args, **kwargs)
        return WorkflowHandleAsync(handle.workflow_id)
