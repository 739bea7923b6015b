"""The queue and the workflows of the messaging benchmarks (``bench/messaging_bench.py``).

``DBOS.launch()`` (hence ``manage.py dbos_worker``) autodiscovers this module. ``messaging_dbos.py``
registers the same workflows with DBOS.
"""

from __future__ import annotations

import time

from messaginglib import IDLE_TIMEOUT, IDLE_TOPIC, QUEUE_NAME, RECV_TIMEOUT, TOPIC

from dbos_django import DBOS, Queue

#: Only the latency part uses it, to start its workflows in the worker process (NOTIFY wakes the worker).
queue = Queue(QUEUE_NAME)


@DBOS.workflow()
def receive_time(i: int) -> dict[str, float]:
    """Latency: wait for one message; say what it was and when ``recv`` returned (``time.time()``)."""
    message = DBOS.recv(TOPIC, timeout_seconds=RECV_TIMEOUT)
    return {"message": message, "received_at": time.time()}


@DBOS.workflow()
def idle_wait(i: int) -> object:
    """Latency with ``--latency-idle``: a workflow that waits in ``recv`` (on another topic) all along."""
    return DBOS.recv(IDLE_TOPIC, timeout_seconds=IDLE_TIMEOUT)


@DBOS.workflow()
def receive_one(i: int) -> int:
    """Throughput: one ``recv`` of a message sent right after the workflow was started."""
    return DBOS.recv(TOPIC, timeout_seconds=RECV_TIMEOUT)
