"""Message list and single-message endpoints (the starting set; extended by the API work)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from sandbox.api import schemas
from sandbox.api.deps import GoJSONResponse, get_sandbox, not_found
from sandbox.runtime import Sandbox
from sandbox.storage import messages as store

router = APIRouter(prefix="/api/v1", tags=["messages"])


@router.get("/messages")
async def list_messages(
    sandbox: Sandbox = Depends(get_sandbox),
    start: str = Query("0"),
    limit: str = Query("50"),
) -> Response:
    start_n = int(start) if start.isdigit() else 0
    limit_n = int(limit) if limit.lstrip("-").isdigit() and int(limit) >= 0 else 50

    def read(conn):  # type: ignore[no-untyped-def]
        total, unread = store.counts(conn)
        if limit_n == 0:
            page = store.list_summaries(conn, start=0, limit=-1)
        else:
            page = store.list_summaries(conn, start=start_n, limit=limit_n)
        return total, unread, page

    total, unread, page = await sandbox.db.read(read)
    return GoJSONResponse(
        {
            "total": total,
            "unread": unread,
            "count": len(page),
            "messages_count": total,
            "messages_unread": unread,
            "start": start_n,
            "tags": [],
            "messages": [schemas.message_summary(s) for s in page],
        }
    )


@router.get("/message/{message_id}/raw")
async def message_raw(message_id: str, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    raw = await sandbox.db.read(lambda conn: store.get_raw(conn, message_id))
    if raw is None:
        return not_found()
    return Response(raw, media_type="text/plain; charset=utf-8")
