"""Inbound mail over the REST API (extension): ``POST /api/v1/inbound`` sends a message *in*, as
a user would (compose, or reply with ``InReplyTo``); ``GET /api/v1/message/{id}/inbound`` says
which inbound rules matched a message and where each of their deliveries stands.

A separate endpoint rather than a flag on ``/api/v1/send``: ``send`` is Mailpit's and stays as
Mailpit has it (stored, never routed), so existing Mailpit clients never trigger an app's
inbound webhooks by surprise. The body is ``send``'s, plus ``Inbox`` and ``InReplyTo``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mailsandbox.api.deps import GoJSONResponse, get_sandbox, json_body, not_found
from mailsandbox.api.schemas import go_time
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.api.security import USER_SCOPE_KEY
from mailsandbox.api.send import build_error
from mailsandbox.inbound import compose, records
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox

router = APIRouter(prefix="/api/v1", tags=["inbound"])


@router.post("/inbound")
async def send_inbound(request: Request, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    """Store a message as received from outside and evaluate the inbound rules (SendGrid
    Inbound Parse, Mailgun Routes) on it. → ``{"ID": "..."}``."""
    try:
        body = await json_body(request)
        assert body is not None
        inbound = await compose.prepare(sandbox, body, request.scope.get(USER_SCOPE_KEY, ""))
    except compose.OriginalNotFound:
        return not_found("InReplyTo: message not found")
    except Exception as exc:  # whatever the builder refuses is the client's input
        return build_error(exc)
    summary = await sandbox.mailbox.ingest(inbound)
    return GoJSONResponse({"ID": summary.id})


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ID": row["id"],
        "URL": row["url"],
        "State": row["status"],
        "Attempts": row["attempts"],
        "Status": row["last_status"],
        "Error": row["last_error"],
        "NextAttempt": go_time(row["next_attempt"]) if row["status"] == "pending" else None,
    }


@router.get("/message/{message_id}/inbound")
async def inbound_matches(
    message_id: str,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    view = await sandbox.db.read(lambda conn: records.load(conn, message_id, visible))
    if view is None:
        return not_found()
    matches = [
        {
            "Provider": m.provider,
            "Rule": m.rule,
            "Description": m.description,
            "Recipient": m.recipient,
            "Actions": m.actions,
            "Stored": m.stored,
            "Deliveries": [_delivery(d) for d in m.deliveries],
        }
        for m in view.matches
    ]
    return GoJSONResponse({"Inbound": view.inbound, "Matches": matches})
