"""Messages (send/recv), events (set_event/get_event) and streams, with DBOS's step accounting.

Inside a workflow each call is checkpointed, and the write and its checkpoint share one
transaction, so a recovered workflow replays them identically: a received message is not
consumed again, a sent message is not sent again. ``recv`` and ``get_event`` take two step
numbers (the call, then its timeout, which is checkpointed first), as in DBOS.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, transaction

from .. import conf
from ..error import DBOSException, DBOSNonExistentWorkflowError, DBOSStreamTimeoutError
from ..models import NULL_TOPIC, TERMINAL_STATUSES
from ..serialization import Serializer, for_tag, store_value
from ..storage import messages as store
from ..storage import steps as step_store
from ..storage.messages import STREAM_CLOSED
from ..storage.records import StepRecord
from . import arguments, clock
from . import runtime as rt
from .aio import db
from .context import WorkflowContext, current_step, current_workflow, in_workflow_body
from .notifications import event_key, message_key, stream_key, waiters
from .steps import replay, run_internal_step

T = TypeVar("T")
LISTENING_RECHECK_SECONDS = 30.0  # with NOTIFY, a look now and then in case one was missed


def _alias() -> str:
    runtime = rt.get()
    return runtime.alias if runtime else conf.get().database


def _serializer() -> Serializer:
    ctx = current_workflow()
    return ctx.serializer if ctx else conf.get().serializer


def _recheck() -> float:
    runtime = rt.get()
    return LISTENING_RECHECK_SECONDS if runtime is not None and runtime.listening() else conf.get().polling_interval


def _after_commit(alias: str, key: str) -> None:
    """Wake local waiters once the write is visible (after the caller's transaction, if one is open)."""
    if connections[alias].in_atomic_block:
        transaction.on_commit(lambda: waiters.notify(key), using=alias)
    else:
        waiters.notify(key)


def _step(wf: WorkflowContext, name: str) -> tuple[int, Any]:
    """Reserve the next step number; return it and its recorded value (``_MISSING`` if none)."""
    function_id = wf.reserve()
    recorded = wf.recorded.get(function_id)
    if recorded is None:
        wf.check_cancelled()
        return function_id, _MISSING
    return function_id, replay(wf, function_id, name, recorded)


_MISSING = object()


def _done(function_id: int, name: str, output: str | None = "null") -> StepRecord:
    now = clock.now_ms()
    return StepRecord(function_id, name, output, None, None, now, now)


# Messages
def send(destination_id: str, message: Any, topic: str | None = None, *, idempotency_key: str | None = None) -> None:
    """Send a message to a workflow; an idempotency key makes it happen once per destination."""
    send_bulk([(destination_id, message, topic, idempotency_key)], step_name="DBOS.send")


def send_bulk(messages: list[tuple[str, Any, str | None, str | None]], *, step_name: str = "DBOS.send_bulk") -> None:
    """Send several messages in one transaction (one step in a workflow)."""
    for destination, _, topic, idempotency_key in messages:
        arguments.workflow_id(destination, "destination workflow ID")
        _topic(topic)
        arguments.optional_text(idempotency_key, "idempotency key")
    keys = [m[3] for m in messages if m[3] is not None]
    if len(keys) != len(set(keys)):
        raise DBOSException("send_bulk(): the same idempotency key appears twice in one batch")
    wf = in_workflow_body()
    step = None
    if wf is not None:
        function_id, recorded = _step(wf, step_name)
        if recorded is not _MISSING:
            return
        step = _done(function_id, step_name)
    serializer = _serializer()
    rows = [(f"{key}::{dest}" if key else str(uuid.uuid4()), dest, topic if topic is not None else NULL_TOPIC,
             store_value(serializer, value, f"The message to workflow {dest}"), serializer.name())
            for dest, value, topic, key in messages]  # fmt: skip
    alias = wf.alias if wf else _alias()
    store.send(alias, rows, clock.now_ms(), owner=wf.owner if wf else None, step=step)
    for _, dest, topic, _, _ in rows:
        _after_commit(alias, message_key(dest, topic))


def _topic(topic: object) -> None:
    if topic is not None:
        arguments.key(topic, "topic")


def _timeout_end(wf: WorkflowContext, timeout_seconds: float) -> int:
    """The checkpointed end of a wait (``DBOS.sleep`` at the next step number, written first)."""
    function_id = wf.reserve()
    recorded = wf.recorded.get(function_id)
    if recorded is not None:
        return int(replay(wf, function_id, "DBOS.sleep", recorded))
    now = clock.now_ms()
    end = now + int(timeout_seconds * 1000)
    step_store.record(wf.owner, StepRecord(function_id, "DBOS.sleep", json.dumps(end), None, None, now, end))
    return end


@dataclass(frozen=True, slots=True)
class Wait:
    """What a waiting call asks its driver for: sleep until ``key`` moves past ``seen``, or ``end_ms``."""

    key: str
    seen: tuple[int, int]
    end_ms: int
    wf: WorkflowContext | None


# A waiting call is written once, as a generator: it does its (short) database work, yields a
# Wait when it must wait, and returns its value. The sync driver waits on a thread; the async
# driver waits on the event loop, so a thousand waiting coroutines hold no thread.
Plan = Generator[Wait, bool, T]


def _testing_wait(wait: Wait) -> bool | None:
    """In testing mode nothing else runs: a wait is its timeout, on the test clock."""
    runtime = rt.get()
    if runtime is None or not runtime.testing:
        return None
    remaining = wait.end_ms - clock.now_ms()
    clock.get().sleep(max(remaining, 0) / 1000)
    return remaining > 0


def _wait(wait: Wait) -> bool:
    """Block until ``wait.key`` changes (or a recheck is due); False once the time is up."""
    remaining = wait.end_ms - clock.now_ms()
    if remaining <= 0:
        return False
    testing = _testing_wait(wait)
    if testing is not None:
        return testing
    waiters.wait(wait.key, wait.seen, min(remaining / 1000, _recheck()), wait.wf.interrupt if wait.wf else None)
    if wait.wf is not None:
        wait.wf.check_cancelled()
    return True


async def _wait_async(wait: Wait) -> bool:
    remaining = wait.end_ms - clock.now_ms()
    if remaining <= 0:
        return False
    testing = _testing_wait(wait)
    if testing is not None:
        return testing
    await waiters.wait_async(wait.key, wait.seen, min(remaining / 1000, _recheck()))
    if wait.wf is not None:
        wait.wf.check_cancelled()
    return True


def drive(plan: Plan[T]) -> T:
    """Run a waiting call to its end on this thread."""
    try:
        wait = next(plan)
        while True:
            wait = plan.send(_wait(wait))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _advance(plan: Plan[T], answer: bool | None) -> tuple[bool, Any]:
    """One stretch of database work: ``(True, value)`` when done, ``(False, Wait)`` when it must wait."""
    try:
        return False, next(plan) if answer is None else plan.send(answer)
    except StopIteration as stop:
        return True, stop.value


async def drive_async(plan: Plan[T]) -> T:
    """Run a waiting call to its end: database work on a worker thread, waits on the event loop."""
    done, step = await db(_advance, plan, None)
    while not done:
        done, step = await db(_advance, plan, await _wait_async(step))
    return step  # type: ignore[no-any-return]


def recv(topic: str | None = None, timeout_seconds: float = 60) -> Any:
    """Take the oldest unconsumed message of ``topic`` sent to this workflow; None after the timeout."""
    return drive(recv_plan(topic, timeout_seconds))


def recv_plan(topic: str | None, timeout_seconds: float) -> Plan[Any]:
    wf = in_workflow_body()
    if wf is None:
        raise DBOSException("recv() must be called from within a workflow")
    _topic(topic)
    arguments.seconds(timeout_seconds, "timeout_seconds")
    function_id, recorded = _step(wf, "DBOS.recv")
    if recorded is not _MISSING:
        wf.reserve()  # the timeout's step number
        return recorded
    end = _timeout_end(wf, timeout_seconds)
    topic = topic if topic is not None else NULL_TOPIC
    key = message_key(wf.workflow_id, topic)
    started = clock.now_ms()
    while True:
        seen = waiters.version(key)
        taken = store.consume(wf.alias, wf.workflow_id, topic, wf.owner,
                              StepRecord(function_id, "DBOS.recv", None, None, None, started, clock.now_ms()))  # fmt: skip
        if taken is not None:
            return wf.serializer.deserialize(taken.output) if taken.output is not None else None
        if not (yield Wait(key, seen, end, wf)):
            step_store.record(wf.owner, _done(function_id, "DBOS.recv"))
            return None


# Events
def set_event(key: str, value: Any) -> None:
    """Set the latest value of an event of this workflow (from its body, checkpointed, or from a step)."""
    wf = current_workflow()
    if wf is None:
        raise DBOSException("set_event() must be called from within a workflow or a step")
    arguments.key(key, "event key")
    step = current_step()
    record = None
    if step is not None:
        function_id = step.function_id
    else:
        function_id, recorded = _step(wf, "DBOS.setEvent")
        if recorded is not _MISSING:
            return
        record = _done(function_id, "DBOS.setEvent")
    text = store_value(wf.serializer, value, f"The value of event {key!r} of workflow {wf.workflow_id}")
    store.set_event(wf.alias, wf.workflow_id, key, text, wf.serializer.name(), function_id,
                    owner=wf.owner if record else None, step=record)  # fmt: skip
    _after_commit(wf.alias, event_key(wf.workflow_id, key))


def get_event(workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
    """The latest value of another workflow's event, waiting for it to be set; None after the timeout."""
    return drive(get_event_plan(workflow_id, key, timeout_seconds))


def get_event_plan(workflow_id: str, key: str, timeout_seconds: float) -> Plan[Any]:
    arguments.workflow_id(workflow_id)
    arguments.key(key, "event key")
    arguments.seconds(timeout_seconds, "timeout_seconds")
    wf = in_workflow_body()
    function_id = 0
    if wf is not None:
        function_id, recorded = _step(wf, "DBOS.getEvent")
        if recorded is not _MISSING:
            wf.reserve()
            return recorded
        end = _timeout_end(wf, timeout_seconds)
    else:
        end = clock.now_ms() + int(timeout_seconds * 1000)
    alias = wf.alias if wf else _alias()
    wait_key = event_key(workflow_id, key)
    while True:
        seen = waiters.version(wait_key)
        text = store.get_event(alias, workflow_id, key)
        if text is not None or not (yield Wait(wait_key, seen, end, wf)):
            break
    if wf is not None:
        step_store.record(wf.owner, _done(function_id, "DBOS.getEvent", text if text is not None else "null"))
    return conf.get().serializer.deserialize(text) if text is not None else None


def get_all_events(workflow_id: str) -> dict[str, Any]:
    """The current value of every event of a workflow."""
    arguments.workflow_id(workflow_id)
    serializer = conf.get().serializer
    return run_internal_step("DBOS.get_events", lambda: {
        key: serializer.deserialize(text) for key, text in store.all_events(_alias(), workflow_id).items()
    })  # fmt: skip


# Streams
def write_stream(key: str, value: Any) -> None:
    """Append a value to a stream of this workflow (from its body, checkpointed, or from a step)."""
    wf = current_workflow()
    if wf is None:
        raise DBOSException("write_stream() must be called from within a workflow or a step")
    arguments.key(key, "stream key")
    _append(wf, key, store_value(wf.serializer, value, f"A value of stream {key!r} of workflow {wf.workflow_id}"),
            "DBOS.writeStream")


def close_stream(key: str) -> None:
    """Mark a stream of this workflow as finished: readers stop after its last value."""
    wf = current_workflow()
    if wf is None:
        raise DBOSException("close_stream() must be called from within a workflow or a step")
    arguments.key(key, "stream key")
    _append(wf, key, json.dumps(STREAM_CLOSED), "DBOS.closeStream")


def _append(wf: WorkflowContext, key: str, text: str, name: str) -> None:
    step = current_step()
    record = None
    if step is not None:
        function_id = step.function_id
    else:
        function_id, recorded = _step(wf, name)
        if recorded is not _MISSING:
            return
        record = _done(function_id, name)
    store.write_stream(wf.alias, wf.workflow_id, key, text, wf.serializer.name(), function_id,
                       owner=wf.owner if record else None, step=record)  # fmt: skip
    _after_commit(wf.alias, stream_key(wf.workflow_id, key))


_CLOSED_TEXT = json.dumps(STREAM_CLOSED)


def next_value(alias: str, workflow_id: str, key: str, offset: int, end_ms: int | None,
               wf: WorkflowContext | None) -> Plan[str | None]:  # fmt: skip
    """The stored text at ``offset``; None when the stream is over. Raise on timeout or a missing writer."""
    wait_key = stream_key(workflow_id, key)
    while True:
        seen = waiters.version(wait_key)
        text, status = store.read_stream(alias, workflow_id, key, offset)
        if status is None:
            raise DBOSNonExistentWorkflowError(workflow_id, "it has no stream to read")
        if text is not None:
            return None if text == _CLOSED_TEXT else text
        if status in TERMINAL_STATUSES:
            return None  # the writer ended without closing: what it wrote has been read
        deadline = end_ms if end_ms is not None else clock.now_ms() + 3_600_000
        if not (yield Wait(wait_key, seen, deadline, wf)) and end_ms is not None:
            raise DBOSStreamTimeoutError(workflow_id, key, offset)


_END = object()


def _read_one(workflow_id: str, key: str, offset: int, timeout_seconds: float | None) -> Plan[Any]:
    """The stream value at ``offset`` (checkpointed in a workflow), or ``_END``."""
    wf = in_workflow_body()
    alias = wf.alias if wf else _alias()
    end = clock.now_ms() + int(timeout_seconds * 1000) if timeout_seconds is not None else None
    if wf is not None:
        function_id, recorded = _step(wf, "DBOS.readStream")
        if recorded is not _MISSING:
            return _END if recorded == STREAM_CLOSED else recorded
    text = yield from next_value(alias, workflow_id, key, offset, end, wf)
    if wf is not None:
        step_store.record(wf.owner, _done(function_id, "DBOS.readStream", text if text is not None else _CLOSED_TEXT))
    return _END if text is None else for_tag(None, conf.get().serializer).deserialize(text)


def _check_read(workflow_id: str, key: str, offset: int, timeout_seconds: float | None) -> None:
    arguments.workflow_id(workflow_id)
    arguments.key(key, "stream key")
    arguments.integer(offset, "stream offset", minimum=0)
    if timeout_seconds is not None:
        arguments.seconds(timeout_seconds, "timeout_seconds")


def read_stream(workflow_id: str, key: str, *, offset: int = 0, timeout_seconds: float | None = None) -> Iterator[Any]:
    """Yield a workflow's stream values in order until it is closed or its writer has ended.

    The arguments are checked at the call (``DBOSInvalidArgumentError``), before the first value is read.
    """
    _check_read(workflow_id, key, offset, timeout_seconds)
    return _values(workflow_id, key, offset, timeout_seconds)


def _values(workflow_id: str, key: str, offset: int, timeout_seconds: float | None) -> Iterator[Any]:
    while (value := drive(_read_one(workflow_id, key, offset, timeout_seconds))) is not _END:
        yield value
        offset += 1


# Async twins: the same calls on a worker thread (the context, and so the workflow, comes along).
def read_stream_async(workflow_id: str, key: str, *, offset: int = 0,
                      timeout_seconds: float | None = None) -> AsyncIterator[Any]:  # fmt: skip
    _check_read(workflow_id, key, offset, timeout_seconds)
    return _values_async(workflow_id, key, offset, timeout_seconds)


async def _values_async(workflow_id: str, key: str, offset: int, timeout_seconds: float | None) -> AsyncIterator[Any]:
    while (value := await drive_async(_read_one(workflow_id, key, offset, timeout_seconds))) is not _END:
        yield value
        offset += 1


async def recv_async(topic: str | None = None, timeout_seconds: float = 60) -> Any:
    return await drive_async(recv_plan(topic, timeout_seconds))


async def get_event_async(workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
    return await drive_async(get_event_plan(workflow_id, key, timeout_seconds))
