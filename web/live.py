"""Live updates for open pages: an SSE stream of "what changed" built from ``sandbox.bus``.

Pages connect with htmx's SSE extension and refresh the affected fragment when told:
``messages`` (a message arrived, was read, deleted, pruned, counts changed) and
``delivery`` (a delivery event was recorded; data = the message id). ``new`` says which mail
arrived, for the opt-in browser notifications: ``{"Count": n, "Messages": [{"ID", "From",
"Subject"}, ...]}`` (at most ``NOTIFY_MAX`` of them, newest last). Bursts are coalesced:
after the first event the stream waits ``COALESCE`` seconds (and at least ``MIN_INTERVAL``
since its last frame) and sends each kind once, so a flood of mail costs a few refreshes.
A stream lives at most ``MAX_LIFETIME`` seconds (the browser reconnects at once), so no
connection is held forever by a tab that vanished without closing it; it ends at once when
the bus closes (shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from mailsandbox import bus
from mailsandbox.api import feed
from mailsandbox.api.deps import get_sandbox
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.runtime import Sandbox
from mailsandbox.web.overview import MESSAGE_TYPES

router = APIRouter(include_in_schema=False)

COALESCE = 0.05
MIN_INTERVAL = 0.25  # at most four refreshes a second per page, however fast mail arrives
KEEPALIVE = 15.0
NOTIFY_MAX = 5
MAX_LIFETIME = 60.0


def _delivery_message_id(event: bus.BusEvent) -> str:
    data = event.data
    if isinstance(data, dict):
        return str(data.get("MessageID") or data.get("message_id") or "")
    return str(getattr(data, "message_id", "") or "")


def arrivals(batch: list[bus.BusEvent]) -> str:
    """The ``new`` frame's data for the messages that arrived in ``batch`` ("" if none)."""
    new = [e.data for e in batch if e.type == bus.NEW]
    if not new:
        return ""
    shown = [
        {"ID": m.id, "From": m.from_.name or m.from_.address, "Subject": m.subject}
        for m in new[-NOTIFY_MAX:]
    ]
    return json.dumps({"Count": len(new), "Messages": shown})


def frame(name: str, data: str = "") -> str:
    return f"event: {name}\ndata: {data}\n\n"


async def changes(sandbox: Sandbox, request: Request) -> AsyncIterator[str]:
    """The frames for one page; a scoped login's page hears of its inboxes' changes only."""
    visible = visible_inboxes(request)
    deadline = time.monotonic() + MAX_LIFETIME
    last_sent = 0.0
    with sandbox.bus.subscribe() as queue:
        yield "retry: 500\n\n"
        while time.monotonic() < deadline and not await request.is_disconnected():
            try:
                first = await asyncio.wait_for(queue.get(), KEEPALIVE)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            if first.type == bus.CLOSED:
                return
            await asyncio.sleep(max(COALESCE, last_sent + MIN_INTERVAL - time.monotonic()))
            last_sent = time.monotonic()
            batch = [first]
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    batch.append(queue.get_nowait())
            if any(e.type == bus.CLOSED for e in batch):
                return
            if visible is not None:
                batch = [e for e in batch if await feed.seen(sandbox, e, visible)]
            if any(e.type in MESSAGE_TYPES for e in batch):
                yield frame("messages")
            if news := arrivals(batch):
                yield frame("new", news)
            delivered = {_delivery_message_id(e) for e in batch if e.type == bus.DELIVERY_EVENT}
            for message_id in sorted(delivered):
                yield frame("delivery", message_id)


@router.get("/ui/events")
async def stream(request: Request, sandbox: Sandbox = Depends(get_sandbox)) -> StreamingResponse:
    return StreamingResponse(
        changes(sandbox, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
