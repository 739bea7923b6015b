"""Show a workflow's progress in a browser: its stream (and its events) as Server-Sent Events.

    # urls.py
    from dbos_django.views import workflow_stream_view
    path("orders/<str:workflow_id>/progress", workflow_stream_view("progress", access_check=owns_order)),

    // the page
    const source = new EventSource(`/orders/${id}/progress`);
    source.onmessage = (e) => show(JSON.parse(e.data));           // each stream value, in order
    source.addEventListener("events", (e) => showEvents(JSON.parse(e.data)));
    source.addEventListener("end", () => source.close());

Values are sent as their stored JSON; a value that was pickled is described, never unpickled.
``access_check(request, workflow_id) -> bool`` decides who may watch (default: staff users).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)

from .engine.aio import wait_in_thread
from .engine.messaging import drive, next_value
from .error import DBOSStreamTimeoutError
from .serialization import PICKLE_PREFIX, describe
from .storage import messages as store
from .storage import workflows as wf_store

AccessCheck = Callable[[HttpRequest, str], bool]
MAX_WAIT_SECONDS = 15.0  # a comment line at least this often keeps proxies from closing the connection


def staff_only(request: HttpRequest, workflow_id: str) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def _json(text: str) -> str:
    """A stored value as one line of JSON for the browser (never unpickling it)."""
    if text.startswith(PICKLE_PREFIX):
        return json.dumps(describe(text))
    return json.dumps(json.loads(text), separators=(",", ":"))


def _frame(data: str, event: str | None = None, event_id: int | None = None) -> str:
    head = (f"event: {event}\n" if event else "") + (f"id: {event_id}\n" if event_id is not None else "")
    return f"{head}data: {data}\n\n"


def _events(alias: str, workflow_id: str) -> str:
    return json.dumps({key: json.loads(_json(text)) for key, text in store.all_events(alias, workflow_id).items()})


def sse_frames(workflow_id: str, key: str, *, offset: int = 0, include_events: bool = True) -> Iterator[str]:
    """The SSE frames of a stream: events when they change, each value, then ``end``."""
    from . import conf

    alias = conf.get().database
    last_events = None
    while True:
        if include_events:
            events = _events(alias, workflow_id)
            if events != last_events:
                yield _frame(events, "events")
                last_events = events
        try:
            text = drive(next_value(alias, workflow_id, key, offset, _deadline(), None))
        except DBOSStreamTimeoutError:
            yield ": waiting\n\n"
            continue
        if text is None:
            if include_events:
                events = _events(alias, workflow_id)
                if events != last_events:
                    yield _frame(events, "events")
            yield _frame(json.dumps({"offset": offset}), "end")
            return
        yield _frame(_json(text), event_id=offset)
        offset += 1


def _deadline() -> int:
    from .engine import clock

    return clock.now_ms() + int(MAX_WAIT_SECONDS * 1000)


def _checked(request: HttpRequest, workflow_id: str, access_check: AccessCheck) -> HttpResponse | None:
    """Refuse anything but a GET, then ask ``access_check`` (before looking the workflow up: no existence oracle)."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if not access_check(request, workflow_id):
        return HttpResponseForbidden("You may not watch this workflow.")
    return None


def _offset(request: HttpRequest) -> int | HttpResponseBadRequest:
    """The offset after the ``Last-Event-ID`` the browser sends back when it reconnects (0 without one)."""
    last = request.headers.get("Last-Event-ID", "-1").strip()
    if not re.fullmatch(r"-?[0-9]{1,18}", last) or int(last) < -1:
        return HttpResponseBadRequest("Last-Event-ID must be the id of an event this view sent (an integer >= 0).")
    return int(last) + 1


def _response(frames: Iterator[str] | AsyncIterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(frames, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


def workflow_stream_view(key: str, *, access_check: AccessCheck = staff_only,
                         include_events: bool = True) -> Callable[..., Any]:  # fmt: skip
    """A sync (WSGI) view streaming the workflow's stream ``key``; URL argument ``workflow_id``."""

    def view(request: HttpRequest, workflow_id: str) -> Any:
        denied = _checked(request, workflow_id, access_check)
        if denied is not None:
            return denied
        offset = _offset(request)
        if isinstance(offset, HttpResponse):
            return offset
        if wf_store.read_outcome(_alias(), workflow_id) is None:
            raise Http404(f"No workflow {workflow_id}")
        return _response(sse_frames(workflow_id, key, offset=offset, include_events=include_events))

    return view


def async_workflow_stream_view(key: str, *, access_check: AccessCheck = staff_only,
                               include_events: bool = True) -> Callable[..., Any]:  # fmt: skip
    """The ASGI twin of ``workflow_stream_view``: waiting costs a worker thread, not the event loop."""

    async def view(request: HttpRequest, workflow_id: str) -> Any:
        denied = await wait_in_thread(_checked, request, workflow_id, access_check)
        if denied is not None:
            return denied
        offset = _offset(request)
        if isinstance(offset, HttpResponse):
            return offset
        if await wait_in_thread(wf_store.read_outcome, _alias(), workflow_id) is None:
            raise Http404(f"No workflow {workflow_id}")
        return _response(_async_frames(sse_frames(workflow_id, key, offset=offset, include_events=include_events)))

    return view


async def _async_frames(frames: Iterator[str]) -> AsyncIterator[str]:
    done = object()
    while True:
        frame = await wait_in_thread(next, frames, done)
        if frame is done:
            return
        yield frame  # type: ignore[misc]


def _alias() -> str:
    from . import conf

    return conf.get().database
