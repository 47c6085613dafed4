"""Our extensions for tests and the UI: ``GET /api/v1/wait`` (long-poll) and ``GET /api/v1/stream``.

Both listen on the in-process bus. ``wait`` subscribes *before* it looks in the database, so a
message committed between the look and the subscription cannot be missed. ``stream`` is
server-sent events carrying the change feed of ``feed.py`` (Mailpit's WebSocket shapes, plus
delivery ``event``s), with a keep-alive comment every 15 s. At shutdown a pending ``wait``
answers ``503`` (``{"Error": ...}``) and the stream ends, so neither holds the process.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from mailsandbox.api import feed, schemas
from mailsandbox.api.deps import (
    GoJSONResponse,
    bad_request,
    error,
    get_sandbox,
    search_headers,
)
from mailsandbox.api.feed import Change
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.bus import CLOSED, NEW
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store
from mailsandbox.storage import search as finder
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

router = APIRouter(prefix="/api/v1", tags=["live"])

MAX_TIMEOUT = 300.0
DEFAULT_TIMEOUT = 30.0
KEEPALIVE = 15.0
DISCONNECT_POLL = 0.5


def _parse_timeout(value: str | None) -> float | None:
    if value is None or value == "":
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= MAX_TIMEOUT else None


async def _newest_match(
    sandbox: Sandbox, query: str, tz: str | None, visible: Visible
) -> MessageSummary | None:
    def read(conn: Connection) -> MessageSummary | None:
        if not query.strip():
            page = store.list_summaries(conn, limit=1, visible=visible)
            return page[0] if page else None
        found = finder.search(conn, query, limit=1, tz=tz, visible=visible).messages
        return found[0] if found else None

    return await sandbox.db.read(read)


async def _accepts(
    sandbox: Sandbox, query: str, tz: str | None, candidate: Any, visible: Visible
) -> bool:
    if not isinstance(candidate, MessageSummary):
        return False
    if visible is not None and candidate.inbox not in visible:
        return False
    if not query.strip():
        return True
    return await sandbox.db.read(lambda conn: finder.matches(conn, query, candidate.id, tz))


@router.get("/wait")
async def wait_for_message(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    query: str = Query("", description="search syntax; empty = any message"),
    timeout: str | None = Query(None, description="seconds (default 30, at most 300)"),
    tz: str | None = Query(None),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """The newest message matching ``query``: at once if one exists, else when one arrives."""
    seconds = _parse_timeout(timeout)
    if seconds is None:
        return bad_request(f"timeout must be a number of seconds from 0 to {MAX_TIMEOUT:g}")
    deadline = time.monotonic() + seconds
    with sandbox.bus.subscribe(lambda event: event.type == NEW) as queue:  # (and CLOSED)
        try:
            found = await _newest_match(sandbox, query, tz, visible)
        except finder.SearchError as exc:
            return bad_request(str(exc))
        while found is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = error(408, f"no message matching the query arrived within {seconds:g}s")
                timed_out.headers.update(search_headers(sandbox))  # (maybe not indexed yet)
                return timed_out
            try:
                event = await asyncio.wait_for(queue.get(), min(remaining, DISCONNECT_POLL))
            except TimeoutError:
                if await request.is_disconnected():
                    return error(408, "client went away")
                continue
            if event.type == CLOSED:
                return error(503, "mailsandbox is shutting down")
            if await _accepts(sandbox, query, tz, event.data, visible):
                found = event.data
    return GoJSONResponse(schemas.message_summary(found), headers=search_headers(sandbox))


def _frame(change: Change) -> str:
    data = json.dumps(change.data, ensure_ascii=False, default=str)
    return f"event: {change.type}\ndata: {data}\n\n"


async def _events(sandbox: Sandbox, visible: Visible) -> AsyncIterator[str]:
    async for change in feed.changes(sandbox, idle=KEEPALIVE, visible=visible):
        yield ": keepalive\n\n" if change is None else _frame(change)


@router.get("/stream")
async def stream(
    sandbox: Sandbox = Depends(get_sandbox), visible: Visible = Depends(visible_inboxes)
) -> Response:
    """Server-sent events: every change to the mailbox, as it is committed."""
    return StreamingResponse(
        _events(sandbox, visible),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
