"""Queues in one process: enqueue, limits, order, delays, deduplication, partitions."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction

from dbos_django import DBOS, Queue, SetEnqueueOptions, SetWorkflowID
from dbos_django.error import DBOSException, DBOSQueueDeduplicatedError
from dbos_django.models import Workflow
from tests.app.models import SideEffect
from tests.conftest import wait_for

fast = Queue("test-fast", polling_interval_sec=0.05)
serial = Queue("test-serial", worker_concurrency=1, polling_interval_sec=0.05)
pair = Queue("test-pair", concurrency=2, polling_interval_sec=0.05)
limited = Queue("test-limited", limiter={"limit": 2, "period": 0.5}, polling_interval_sec=0.05)
partitioned = Queue("test-partitioned", partition_concurrency=1, polling_interval_sec=0.05)

lock = threading.Lock()
running = {"now": 0, "peak": 0}


@DBOS.workflow()
def log_start(tag: str) -> str:
    SideEffect.objects.create(key=tag, created=time.monotonic_ns())
    return tag


@DBOS.workflow()
def busy(tag: str, seconds: float) -> str:
    with lock:
        running["now"] += 1
        running["peak"] = max(running["peak"], running["now"])
    time.sleep(seconds)
    with lock:
        running["now"] -= 1
    return tag


@pytest.fixture(autouse=True)
def reset_counters():
    running.update(now=0, peak=0)


def test_enqueue_needs_no_runtime_and_returns_the_id_at_once(transactional_db):
    with SetWorkflowID("q-1"):
        handle = fast.enqueue(log_start, "a")
    assert handle.workflow_id == "q-1"
    row = Workflow.objects.get(workflow_id="q-1")
    assert (row.status, row.queue_name, row.recovery_attempts) == ("ENQUEUED", "test-fast", 0)


def test_a_launched_runtime_runs_what_was_enqueued(dbos):
    handle = fast.enqueue(log_start, "b")
    assert handle.get_result() == "b"
    row = Workflow.objects.get(workflow_id=handle.workflow_id)
    assert (row.status, row.recovery_attempts, row.owner_epoch) == ("SUCCESS", 1, 1)


def test_enqueue_in_a_rolled_back_atomic_leaves_no_row(transactional_db):
    with pytest.raises(RuntimeError), transaction.atomic():
        with SetWorkflowID("q-rollback"):
            fast.enqueue(log_start, "never")
        raise RuntimeError
    assert not Workflow.objects.filter(workflow_id="q-rollback").exists()


def test_enqueue_in_a_committed_atomic_runs_after_the_commit(dbos):
    with transaction.atomic():
        handle = fast.enqueue(log_start, "committed")
        assert not SideEffect.objects.exists()
    assert handle.get_result() == "committed"


def test_the_same_id_enqueued_twice_runs_once(dbos):
    for _ in range(2):
        with SetWorkflowID("q-twice"):
            fast.enqueue(log_start, "twice")
    assert DBOS.get_result("q-twice") == "twice"
    assert SideEffect.objects.filter(key="twice").count() == 1


def test_priority_then_age_orders_the_start(dbos):
    DBOS.destroy()  # enqueue everything first, then start one worker thread of a serial queue
    for tag, priority in [("p5", 5), ("p1-old", 1), ("none", None), ("p1-new", 1), ("p3", 3)]:
        with SetEnqueueOptions(priority=priority):
            serial.enqueue(log_start, tag)
    DBOS.launch()
    wait_for(lambda: SideEffect.objects.count() == 5)
    order = list(SideEffect.objects.order_by("created").values_list("key", flat=True))
    assert order == ["none", "p1-old", "p1-new", "p3", "p5"]


def test_worker_concurrency_is_never_exceeded(dbos):
    handles = [serial.enqueue(busy, str(i), 0.05) for i in range(4)]
    assert [h.get_result() for h in handles] == ["0", "1", "2", "3"]
    assert running["peak"] == 1


def test_global_concurrency_is_never_exceeded(dbos):
    handles = [pair.enqueue(busy, str(i), 0.1) for i in range(6)]
    [h.get_result() for h in handles]
    assert running["peak"] == 2


def test_a_rate_limit_of_n_per_period_is_respected(dbos):
    handles = [limited.enqueue(log_start, f"r{i}") for i in range(5)]
    [h.get_result() for h in handles]
    starts = sorted(Workflow.objects.filter(queue_name="test-limited").values_list("started_at", flat=True))
    for i in range(len(starts) - 2):
        assert starts[i + 2] - starts[i] >= 500, starts  # never 3 starts within one period


def test_partitions_run_in_parallel_each_within_its_own_limit(dbos):
    handles = []
    for i in range(4):
        with SetEnqueueOptions(queue_partition_key=f"user-{i % 2}"):
            handles.append(partitioned.enqueue(busy, str(i), 0.2))
    [h.get_result() for h in handles]
    assert running["peak"] == 2  # one per partition, two partitions at once


def test_a_delayed_workflow_waits_for_its_delay(dbos):
    with SetEnqueueOptions(delay_seconds=0.3):
        handle = fast.enqueue(log_start, "later")
    assert Workflow.objects.get(workflow_id=handle.workflow_id).status == "DELAYED"
    enqueued = time.monotonic()
    assert handle.get_result() == "later"
    assert time.monotonic() - enqueued >= 0.25


def test_a_deduplication_id_blocks_a_second_enqueue_while_the_first_waits(transactional_db):
    with SetEnqueueOptions(deduplication_id="only-one"), SetWorkflowID("dedup-1"):
        fast.enqueue(log_start, "first")
    with SetEnqueueOptions(deduplication_id="only-one"), SetWorkflowID("dedup-2"):
        with pytest.raises(DBOSQueueDeduplicatedError, match="deduplication ID only-one"):
            fast.enqueue(log_start, "second")
    assert not Workflow.objects.filter(workflow_id="dedup-2").exists()


def test_return_existing_attaches_to_the_holder_of_the_deduplication_id(transactional_db):
    with SetEnqueueOptions(deduplication_id="shared"), SetWorkflowID("dedup-3"):
        fast.enqueue(log_start, "first")
    with SetEnqueueOptions(deduplication_id="shared", duplication_policy="return-existing"):
        assert fast.enqueue(log_start, "second").workflow_id == "dedup-3"


def test_a_finished_workflow_frees_its_deduplication_id(dbos):
    with SetEnqueueOptions(deduplication_id="again"):
        fast.enqueue(log_start, "one").get_result()
    with SetEnqueueOptions(deduplication_id="again"):
        assert fast.enqueue(log_start, "two").get_result() == "two"


def test_a_dedup_error_in_a_workflow_is_checkpointed(dbos):
    with SetEnqueueOptions(deduplication_id="held"):
        fast.enqueue(busy, "holder", 0.5)

    @DBOS.workflow()
    def parent() -> str:
        try:
            with SetEnqueueOptions(deduplication_id="held"):
                fast.enqueue(log_start, "x")
        except DBOSQueueDeduplicatedError:
            return "deduplicated"
        return "enqueued"

    with SetWorkflowID("dedup-parent"):
        assert parent() == "deduplicated"
    assert isinstance(DBOS.list_workflow_steps("dedup-parent")[0]["error"], DBOSQueueDeduplicatedError)


def test_enqueue_inside_a_workflow_is_a_child_with_one_step(dbos):
    @DBOS.workflow()
    def parent() -> str:
        return fast.enqueue(log_start, "child").get_result()

    with SetWorkflowID("q-parent"):
        assert parent() == "child"
    steps = DBOS.list_workflow_steps("q-parent")
    assert [(s["function_id"], s["function_name"], s["child_workflow_id"]) for s in steps] == [
        (1, log_start.__qualname__, "q-parent-1"), (2, "DBOS.getResult", "q-parent-1"),
    ]


@pytest.mark.parametrize("priority", [0, -1, 2**31])
def test_a_priority_out_of_range_is_refused(transactional_db, priority):
    with SetEnqueueOptions(priority=priority), pytest.raises(DBOSException, match="priority"):
        fast.enqueue(log_start, "x")


def test_a_partitioned_queue_needs_a_partition_key(transactional_db):
    with pytest.raises(DBOSException, match="queue_partition_key"):
        partitioned.enqueue(log_start, "x")


def test_a_partition_key_on_a_plain_queue_is_refused(transactional_db):
    with SetEnqueueOptions(queue_partition_key="k"), pytest.raises(DBOSException, match="not partitioned"):
        fast.enqueue(log_start, "x")


def test_enqueue_options_on_a_workflow_not_enqueued_are_refused(dbos):
    with SetEnqueueOptions(priority=1), pytest.raises(DBOSException, match="not being enqueued"):
        DBOS.start_workflow(log_start, "x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"concurrency": 2, "global_concurrency": 2}, "not both"),
        ({"concurrency": 1, "worker_concurrency": 2}, "exceeds concurrency"),
        ({"limiter": {"limit": 1}}, "needs both"),
        ({"polling_interval_sec": 0}, "polling_interval_sec"),
        ({"partition_concurrency": 1, "partition_queue": True}, "partition_queue"),
        ({"worker_concurrency": 0}, "positive"),
    ],
)
def test_inconsistent_queue_limits_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Queue("test-invalid", **kwargs)


def test_a_queue_name_cannot_be_declared_twice():
    with pytest.raises(Exception, match="already been declared"):
        Queue("test-fast")


def test_a_database_queue_is_served_by_name_with_its_stored_limits(dbos):
    queue = DBOS.register_queue("test-db-queue", worker_concurrency=1, polling_interval_sec=0.05)
    assert queue.worker_concurrency == 1
    handles = [DBOS.enqueue_workflow("test-db-queue", busy, str(i), 0.05) for i in range(3)]
    assert [h.get_result() for h in handles] == ["0", "1", "2"]
    assert running["peak"] == 1


def test_list_queued_workflows_shows_waiting_work(transactional_db):
    with SetWorkflowID("listed"):
        fast.enqueue(log_start, "waiting")
    listed = DBOS.list_queued_workflows(queue_name="test-fast")
    assert [(w.workflow_id, w.status, w.input) for w in listed] == [("listed", "ENQUEUED", {"args": ("waiting",), "kwargs": {}})]
