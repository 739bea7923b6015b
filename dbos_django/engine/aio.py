"""Bridges between sync and async code."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
# Testing mode runs async workflows on an event loop in the test's own thread: their database work
# stays on that thread too (on the test's connection, inside the test's transaction).
inline_db: contextvars.ContextVar[bool] = contextvars.ContextVar("dbos_inline_db", default=False)


def _db_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        from .. import conf

        # Short database calls of async code: bounded like the workflows' pool (waits hold no thread).
        _pool = ThreadPoolExecutor(conf.get().max_threads, thread_name_prefix="dbos-db")
    return _pool


async def db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking (ORM) work from async code in a thread, keeping the context."""
    if inline_db.get():
        return fn(*args, **kwargs)
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, _closing, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_db_pool(), call)


def _closing(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    from django.db import close_old_connections

    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


_waits: ThreadPoolExecutor | None = None


async def wait_in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work that may wait long (recv, get_event, stream reads) from async code.

    A pool of its own, so long waits never starve the short database calls of ``db()``.
    """
    global _waits
    if inline_db.get():
        return fn(*args, **kwargs)
    if _waits is None:
        _waits = ThreadPoolExecutor(256, thread_name_prefix="dbos-wait")
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, _closing, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_waits, call)


def forget_pools_after_fork() -> None:
    """A forked child starts its own pools: the parent's threads do not exist here."""
    global _pool, _waits
    _pool = _waits = None


def shutdown_pool() -> None:
    """Let the threads doing database work for async code end (and their connections with them)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None


def loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return not inline_db.get()


def check_async(name: str) -> None:
    """Refuse a blocking API inside a running event loop, naming its async twin."""
    if loop_running():
        raise RuntimeError(
            f"{name}() was called while an event loop is running. Use await {name}_async(...) instead."
        )


def run_blocking_off_loop(fn: Callable[[], T]) -> T:
    """Run blocking ORM work from a thread that runs an event loop (a sync step in an async workflow)."""
    if not loop_running() or inline_db.get():
        return fn()
    ctx = contextvars.copy_context()
    return _db_pool().submit(ctx.run, _closing, fn).result()
