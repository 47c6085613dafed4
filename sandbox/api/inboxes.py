"""``GET /api/v1/inboxes``: every inbox that holds mail, with its message and unread counts.

An inbox is named by the SMTP AUTH user, the ESP API key or an ``X-Sandbox-Inbox`` header
(see :mod:`mailsandbox.ingest`); it exists while it holds messages. Sorted by name.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from mailsandbox.api.deps import GoJSONResponse, get_sandbox
from mailsandbox.api.schemas import go_time
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.sql import Connection

router = APIRouter(prefix="/api/v1", tags=["testing"])

_COUNTS = """
SELECT inbox, COUNT(*), COALESCE(SUM(1 - read), 0), MAX(created)
FROM messages GROUP BY inbox ORDER BY inbox
"""


def inbox_counts(conn: Connection) -> list[dict[str, Any]]:
    return [
        {"Name": name, "Messages": int(total), "Unread": int(unread), "Latest": go_time(latest)}
        for name, total, unread, latest in conn.execute(_COUNTS)
    ]


@router.get("/inboxes")
async def list_inboxes(sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    return GoJSONResponse({"inboxes": await sandbox.db.read(inbox_counts)})
