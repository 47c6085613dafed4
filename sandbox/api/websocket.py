"""Mailpit's WebSocket ``GET /api/events``: the change feed for ``mailpit-ws`` and Mailpit UIs.

Each change of ``feed.py`` goes out as one text frame ``{"Type": ..., "Data": ...}`` (``new``,
``stats``, ``update``, ``delete``, ``truncate``, ``prune``; delivery events are not part of
Mailpit's vocabulary and are left out). Client messages are read and ignored. Basic auth and
"any Origin" are handled by ``security.py``; the protocol pings every 54 s and drops a client
whose pong is 60 s late (uvicorn's ``ws_ping_*`` options, see ``UVICORN_OPTIONS``). At
shutdown the feed ends and the server closes with 1001 "going away" (a clean close, which
browsers and ``mailpit-ws``-style clients treat as "reconnect later").
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from mailsandbox.api import feed
from mailsandbox.api.scoping import login_of
from mailsandbox.runtime import Sandbox
from mailsandbox.tasks import cancel_and_wait

router = APIRouter(tags=["live"])

PING_INTERVAL = 54.0
PONG_TIMEOUT = 60.0
UVICORN_OPTIONS: dict[str, Any] = {
    "ws": "auto",  # the ``websockets`` package (a dependency) when installed
    "ws_ping_interval": PING_INTERVAL,
    "ws_ping_timeout": PONG_TIMEOUT,
}


def encode(change: feed.Change) -> str:
    """One frame, compact JSON like Go's encoder (non-ASCII kept as is)."""
    message = {"Type": change.type, "Data": change.data}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str)


GOING_AWAY = 1001


async def _send_changes(websocket: WebSocket, sandbox: Sandbox) -> None:
    login = login_of(websocket.scope)
    visible = login.inboxes if login is not None else None
    async for change in feed.changes(sandbox, delivery_events=False, visible=visible):
        if change is not None:
            await websocket.send_text(encode(change))
    await websocket.close(GOING_AWAY, "mailsandbox is shutting down")  # the feed ended


async def _ignore_messages(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


@router.websocket("/api/events")
async def events(websocket: WebSocket) -> None:
    """Live mailbox changes until the client goes away."""
    sandbox: Sandbox = websocket.app.state.sandbox
    await websocket.accept()
    tasks = {
        asyncio.create_task(_send_changes(websocket, sandbox)),
        asyncio.create_task(_ignore_messages(websocket)),
    }
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    await cancel_and_wait(pending)
    for task in done:
        failure = task.exception()
        if failure is not None and not isinstance(failure, WebSocketDisconnect | OSError):
            raise failure
