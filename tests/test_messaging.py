"""Messages, events and streams: DBOS's step accounting, replay, waits and wake-ups."""

from __future__ import annotations

import asyncio
import time

import pytest

from dbos_django import DBOS, SendMessage, SetWorkflowID
from dbos_django.error import DBOSException, DBOSNonExistentWorkflowError, DBOSStreamTimeoutError
from dbos_django.models import Message, StepOutput, StreamEntry, Workflow, WorkflowEvent
from tests.conftest import later, wait_for


@DBOS.workflow()
def receiver(topic: str | None, timeout: float) -> object:
    return DBOS.recv(topic, timeout_seconds=timeout)


@DBOS.workflow()
def publisher(values: list[int]) -> str:
    for value in values:
        DBOS.set_event("progress", value)
    return "published"


@DBOS.workflow()
def streamer(values: list[str], close: bool) -> None:
    for value in values:
        DBOS.write_stream("out", value)
    if close:
        DBOS.close_stream("out")


def names(workflow_id: str) -> list[str]:
    return [s["function_name"] for s in DBOS.list_workflow_steps(workflow_id)]


def test_recv_gets_a_message_sent_before_it_waits(dbos):
    with SetWorkflowID("m-1"):
        DBOS.start_workflow(receiver, "greeting", 0.001).get_result()  # times out: no message yet
    with SetWorkflowID("m-2"):
        handle = DBOS.start_workflow(receiver, "greeting", 10)
    DBOS.send("m-2", {"hello": "world"}, "greeting")
    assert handle.get_result() == {"hello": "world"}
    assert names("m-2") == ["DBOS.recv", "DBOS.sleep"]
    assert [s["function_id"] for s in DBOS.list_workflow_steps("m-2")] == [1, 2]


def test_recv_times_out_with_none_and_checkpoints_it(dbos):
    with SetWorkflowID("m-3"):
        assert receiver("nothing", 0.05) is None
    steps = DBOS.list_workflow_steps("m-3")
    assert [(s["function_name"], s["output"]) for s in steps][0] == ("DBOS.recv", None)


def test_recv_wakes_at_once_when_a_message_arrives(dbos):
    with SetWorkflowID("m-4"):
        handle = DBOS.start_workflow(receiver, "ping", 30)
    wait_for(lambda: StepOutput.objects.filter(workflow_id="m-4", function_name="DBOS.sleep").exists())
    started = time.monotonic()
    DBOS.send("m-4", "pong", "ping")
    assert handle.get_result() == "pong"
    assert time.monotonic() - started < 5


def test_recv_consumes_the_oldest_message_of_its_topic_only(dbos):
    @DBOS.workflow()
    def two() -> list[object]:
        return [DBOS.recv("a", 5), DBOS.recv("a", 5), DBOS.recv(None, 5)]

    with SetWorkflowID("m-5"):
        handle = DBOS.start_workflow(two)
    DBOS.send("m-5", "b-first", "b")
    DBOS.send("m-5", "a-first", "a")
    DBOS.send("m-5", "a-second", "a")
    DBOS.send("m-5", "no-topic")
    assert handle.get_result() == ["a-first", "a-second", "no-topic"]
    assert Message.objects.filter(destination_id="m-5", consumed=False).get().message == '"b-first"'


def test_an_idempotency_key_makes_a_send_happen_once(dbos):
    with SetWorkflowID("m-6"):
        handle = DBOS.start_workflow(receiver, None, 0.3)
    for _ in range(3):
        DBOS.send("m-6", "once", idempotency_key="k1")
    handle.get_result()
    assert Message.objects.filter(destination_id="m-6").count() == 1


def test_sending_to_a_missing_workflow_raises(dbos):
    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.send("no-such-workflow", "hello")
    assert not Message.objects.exists()


def test_send_bulk_sends_all_in_one_step(dbos):
    with SetWorkflowID("m-7"):
        target = DBOS.start_workflow(receiver, "x", 0.2)

    @DBOS.workflow()
    def sender() -> None:
        DBOS.send_bulk([SendMessage("m-7", 1, "x"), SendMessage("m-7", 2, "y")])

    with SetWorkflowID("m-8"):
        sender()
    assert names("m-8") == ["DBOS.send_bulk"]
    target.get_result()
    assert Message.objects.filter(destination_id="m-7").count() == 2


def test_send_bulk_refuses_a_repeated_idempotency_key(dbos):
    with pytest.raises(DBOSException, match="idempotency key"):
        DBOS.send_bulk([SendMessage("a", 1, idempotency_key="k"), SendMessage("b", 2, idempotency_key="k")])


def test_recv_outside_a_workflow_is_refused(dbos):
    with pytest.raises(DBOSException, match="within a workflow"):
        DBOS.recv()


def test_a_send_inside_a_workflow_is_a_step_and_replays_without_sending_again(dbos):
    with SetWorkflowID("m-9-target"):
        target = DBOS.start_workflow(receiver, None, 0.3)

    @DBOS.workflow()
    def sender() -> None:
        DBOS.send("m-9-target", "hi")

    for _ in range(2):
        with SetWorkflowID("m-9"):
            sender()
    target.get_result()
    assert names("m-9") == ["DBOS.send"]
    assert Message.objects.filter(destination_id="m-9-target").count() == 1


def test_events_keep_the_latest_value_and_get_event_waits_for_one(dbos):
    with SetWorkflowID("e-1"):
        assert publisher([1, 2, 3]) == "published"
    assert DBOS.get_event("e-1", "progress", timeout_seconds=0) == 3
    assert DBOS.get_all_events("e-1") == {"progress": 3}
    assert names("e-1") == ["DBOS.setEvent"] * 3
    assert DBOS.get_event("e-1", "missing", timeout_seconds=0.05) is None


def test_get_event_wakes_when_the_event_is_set(dbos):
    @DBOS.workflow()
    def late_publisher() -> None:
        DBOS.recv("go", 30)
        DBOS.set_event("ready", "yes")

    with SetWorkflowID("e-2"):
        DBOS.start_workflow(late_publisher)
    later(0.2, lambda: DBOS.send("e-2", None, "go"))
    assert DBOS.get_event("e-2", "ready", timeout_seconds=30) == "yes"


def test_get_event_in_a_workflow_takes_two_steps(dbos):
    with SetWorkflowID("e-3-source"):
        publisher([7])

    @DBOS.workflow()
    def reader() -> object:
        return DBOS.get_event("e-3-source", "progress", 5)

    with SetWorkflowID("e-3"):
        assert reader() == 7
    assert names("e-3") == ["DBOS.getEvent", "DBOS.sleep"]


def test_set_event_from_a_step_is_not_a_step_of_its_own(dbos):
    @DBOS.step()
    def report() -> None:
        DBOS.set_event("from-step", 1)

    @DBOS.workflow()
    def wf() -> None:
        report()

    with SetWorkflowID("e-4"):
        wf()
    assert names("e-4") == [report.__qualname__]
    assert DBOS.get_event("e-4", "from-step", 0) == 1


def test_set_event_outside_a_workflow_is_refused(dbos):
    with pytest.raises(DBOSException, match="within a workflow or a step"):
        DBOS.set_event("k", 1)


def test_a_stream_is_read_in_order_until_it_is_closed(dbos):
    with SetWorkflowID("s-1"):
        streamer(["a", "b", "c"], True)
    assert list(DBOS.read_stream("s-1", "out")) == ["a", "b", "c"]
    assert list(DBOS.read_stream("s-1", "out", offset=1)) == ["b", "c"]
    assert names("s-1") == ["DBOS.writeStream"] * 3 + ["DBOS.closeStream"]


def test_a_stream_ends_when_its_writer_ends_without_closing_it(dbos):
    with SetWorkflowID("s-2"):
        streamer(["x"], False)
    assert list(DBOS.read_stream("s-2", "out")) == ["x"]


def test_a_reader_waits_for_values_as_they_are_written(dbos):
    @DBOS.workflow()
    def slow_writer() -> None:
        for i in range(3):
            DBOS.write_stream("live", i)
            DBOS.recv("next", 0.05)
        DBOS.close_stream("live")

    with SetWorkflowID("s-3"):
        DBOS.start_workflow(slow_writer)
    assert list(DBOS.read_stream("s-3", "live")) == [0, 1, 2]


def test_a_stream_read_times_out_per_value(dbos):
    @DBOS.workflow()
    def stalled() -> None:
        DBOS.write_stream("slow", 1)
        DBOS.recv("never", 5)

    with SetWorkflowID("s-4"):
        DBOS.start_workflow(stalled)
    values = DBOS.read_stream("s-4", "slow", timeout_seconds=0.2)
    assert next(values) == 1
    with pytest.raises(DBOSStreamTimeoutError):
        next(values)
    DBOS.send("s-4", None, "never")


def test_reading_the_stream_of_a_missing_workflow_raises(dbos):
    with pytest.raises(DBOSNonExistentWorkflowError):
        list(DBOS.read_stream("no-such-workflow", "out"))


def test_a_stream_read_in_a_workflow_checkpoints_each_value_and_the_end(dbos):
    with SetWorkflowID("s-5-source"):
        streamer(["p", "q"], True)

    @DBOS.workflow()
    def consumer() -> list[str]:
        return list(DBOS.read_stream("s-5-source", "out"))

    with SetWorkflowID("s-5"):
        assert consumer() == ["p", "q"]
    assert names("s-5") == ["DBOS.readStream"] * 3


def test_fork_copies_events_and_stream_values_before_its_start_step(dbos):
    @DBOS.workflow()
    def progress() -> None:
        DBOS.set_event("stage", "one")
        DBOS.write_stream("log", "first")
        DBOS.set_event("stage", "two")
        DBOS.write_stream("log", "second")

    with SetWorkflowID("f-1"):
        progress()
    fork_handle = DBOS.fork_workflow("f-1", 3)
    fork_id = fork_handle.workflow_id
    # Before the fork runs its remaining steps it already sees what the original had before step 3.
    assert WorkflowEvent.objects.get(workflow_id=fork_id, key="stage").value == '"one"'
    assert list(StreamEntry.objects.filter(workflow_id=fork_id).values_list("value", flat=True)) == ['"first"']
    fork_handle.get_result()
    assert DBOS.get_event(fork_id, "stage", 0) == "two"
    assert list(DBOS.read_stream(fork_id, "log")) == ["first", "second"]


def test_delete_removes_messages_events_and_streams(dbos):
    with SetWorkflowID("d-1"):
        progress_wf = DBOS.start_workflow(receiver, None, 0.2)
    DBOS.send("d-1", "x")
    progress_wf.get_result()
    with SetWorkflowID("d-2"):
        publisher([1])
    with SetWorkflowID("d-3"):
        streamer(["v"], True)
    DBOS.delete_workflows(["d-1", "d-2", "d-3"])
    assert not Message.objects.exists() and not WorkflowEvent.objects.exists() and not StreamEntry.objects.exists()
    assert not Workflow.objects.filter(workflow_id__startswith="d-").exists()


def test_replay_after_a_crash_returns_the_same_messages_without_consuming_new_ones(dbos_runtime_testing):
    runtime = dbos_runtime_testing

    @DBOS.workflow()
    def two_messages() -> list[object]:
        first = DBOS.recv("t", 5)
        second = DBOS.recv("t", 5)
        return [first, second]

    with SetWorkflowID("r-1"):
        DBOS.start_workflow(two_messages)
    DBOS.send("r-1", "one", "t")
    DBOS.send("r-1", "two", "t")
    DBOS.send("r-1", "three", "t")
    runtime.drain()
    assert DBOS.get_result("r-1") == ["one", "two"]
    # A crash after the first recv (it timed out), then recovery: the checkpointed None is replayed,
    # and only the second recv consumes a message.
    wid = runtime.simulate_crash(two_messages, after_step=2, workflow_id="r-2")
    DBOS.send("r-2", "a", "t")
    DBOS.send("r-2", "b", "t")
    runtime.recover()
    assert DBOS.get_result(wid) == [None, "a"]
    assert list(Message.objects.filter(destination_id="r-2", consumed=False).values_list("message", flat=True)) == ['"b"']


def test_the_async_twins(dbos):
    @DBOS.workflow()
    async def async_flow() -> object:
        await DBOS.set_event_async("k", "v")
        await DBOS.write_stream_async("s", 1)
        await DBOS.close_stream_async("s")
        return await DBOS.recv_async("t", 5)

    async def main() -> tuple[object, object, object, list[object]]:
        with SetWorkflowID("a-1"):
            handle = await DBOS.start_workflow_async(async_flow)
        await DBOS.send_async("a-1", "msg", "t")
        result = await handle.get_result()
        event = await DBOS.get_event_async("a-1", "k", 5)
        events = await DBOS.get_all_events_async("a-1")
        values = [v async for v in DBOS.read_stream_async("a-1", "s")]
        return result, event, events, values

    assert asyncio.run(main()) == ("msg", "v", {"k": "v"}, [1])


def test_a_change_between_a_look_and_the_wait_is_not_missed():
    from dbos_django.engine.notifications import Waiters

    waiters = Waiters()
    seen = waiters.version("k")  # look at the database...
    waiters.notify("k")  # ...a message arrives before the wait begins...
    started = time.monotonic()
    waiters.wait("k", seen, timeout=5)  # ...and the wait returns at once
    assert time.monotonic() - started < 1
