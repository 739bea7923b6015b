"""``@DBOS.transaction``: the body and its checkpoint commit in one ``transaction.atomic()``."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connections, transaction

from ..error import DBOSBaseException, DBOSException
from ..storage import connections as conns
from ..storage import steps as step_store
from ..storage import vendor
from ..storage.records import StepRecord
from . import clock
from .context import StepContext, WorkflowContext, current_step, in_workflow_body, step_scope
from .steps import encode, replay

logger = logging.getLogger("dbos_django")
ISOLATION_LEVELS = ("SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED")
MAX_BACKOFF_SECONDS = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionConfig:
    name: str
    isolation_level: str = "SERIALIZABLE"
    using: str | None = None

    def __post_init__(self) -> None:
        if self.isolation_level not in ISOLATION_LEVELS:
            raise DBOSException(
                f"Transaction {self.name}: isolation_level must be one of {', '.join(ISOLATION_LEVELS)}, "
                f"not {self.isolation_level!r}"
            )


def _committed(wf: WorkflowContext, alias: str, function_id: int) -> StepRecord | None:
    """After a dropped connection: did our commit land before the connection went away?"""
    record = step_store.load(wf.alias, wf.workflow_id).get(function_id)
    if record is None and alias != wf.alias:
        record = step_store.load_transaction_output(alias, wf.workflow_id, function_id)
    return record


def _attempt(wf: WorkflowContext, config: TransactionConfig, alias: str, function_id: int, started: int,
             func: Callable[..., Any], args: Any, kwargs: Any) -> tuple[Any, StepRecord]:  # fmt: skip
    """One try: the body, then its checkpoint, in one transaction on ``alias``."""
    nested = connections[alias].in_atomic_block  # testing mode: a savepoint in the test's transaction
    with transaction.atomic(using=alias):
        conn = connections[alias]
        isolation = vendor.set_isolation_sql(conn, config.isolation_level)
        if isolation and not nested:
            with conn.cursor() as cur:
                cur.execute(isolation)
        with step_scope(StepContext(function_id, is_transaction=True)):
            value = func(*args, **kwargs)
        record, error = encode(wf, function_id, config.name, started, value)
        if error is not None:
            raise error
        if alias == wf.alias:
            step_store.record(wf.owner, record)
        else:
            step_store.record_transaction_output(conn, wf.workflow_id, record, clock.now_ms())
    return value, record


def run(config: TransactionConfig, func: Callable[..., Any], args: Any, kwargs: Any, alias: str) -> Any:
    """Run a transaction inside a workflow body, exactly once."""
    wf = in_workflow_body()
    if wf is None or current_step() is not None:
        with transaction.atomic(using=alias):
            return func(*args, **kwargs)
    function_id = wf.reserve()
    recorded = wf.recorded.get(function_id)
    if recorded is None and wf.recorded and alias != wf.alias:
        recorded = step_store.load_transaction_output(alias, wf.workflow_id, function_id)
    if recorded is not None:
        return _replay_and_copy(wf, config.name, alias, function_id, recorded)
    wf.check_cancelled()
    started = clock.now_ms()
    delay = 0.001
    while True:
        try:
            value, record = _attempt(wf, config, alias, function_id, started, func, args, kwargs)
            break
        except DBOSBaseException:
            raise
        except DatabaseError as exc:
            if vendor.is_serialization_failure(exc):
                logger.debug("Transaction %s: serialization failure, retrying (%s)", config.name, exc)
            elif vendor.is_connection_error(exc):
                connections[alias].close()
                found = conns.run(alias, lambda conn: _committed(wf, alias, function_id))
                if found is not None:
                    return _replay_and_copy(wf, config.name, alias, function_id, found)
            else:
                _record_error(wf, config.name, function_id, started, exc)
                raise
            clock.get().sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 1.5, MAX_BACKOFF_SECONDS)
        except Exception as exc:
            _record_error(wf, config.name, function_id, started, exc)
            raise
    if alias != wf.alias:
        step_store.record(wf.owner, record)
    return value


def _record_error(wf: WorkflowContext, name: str, function_id: int, started: int, error: BaseException) -> None:
    record, _ = encode(wf, function_id, name, started, error=error)
    step_store.record(wf.owner, record)


def _replay_and_copy(wf: WorkflowContext, name: str, alias: str, function_id: int, record: StepRecord) -> Any:
    """Replay a committed transaction; copy an output found only in the user's database to the checkpoints."""
    if alias != wf.alias and function_id not in wf.recorded:
        step_store.record(wf.owner, record)
    return replay(wf, function_id, name, record)


def check_not_in_atomic(name: str, alias: str) -> None:
    from . import runtime as rt

    running = rt.get()
    if running is not None and running.testing:
        return  # a test's transaction wraps everything; a savepoint stands for the commit
    if connections[alias].in_atomic_block:
        raise DBOSException(
            f"Transaction {name} was called inside an open transaction.atomic() on database {alias!r}. "
            "Its exactly-once guarantee needs its own commit: call it outside the atomic block "
            "(or make the enclosing code a workflow)."
        )
