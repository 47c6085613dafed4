"""SendGrid's Email Activity API over the mail the sandbox holds: ``GET /v3/messages?query=...``
(``limit`` 1..1000, default 10) and ``GET /v3/messages/{msg_id}``, in the shapes of the OpenAPI
document ``tsg_email_activity_v3`` (twilio/sendgrid-oai).

One row per recipient of each message sent through ``/v3/mail/send``, newest first. ``msg_id``
is the message's ``sg_message_id`` (shared by the recipients of one personalization, so
``/v3/messages/{msg_id}`` answers for its first recipient); ``status`` is ``delivered`` once
delivered (or opened, clicked), ``not_delivered`` after a bounce or drop, else ``processed``;
``events`` lists what happened to that recipient under SendGrid's activity names.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.sendgrid import bounce_kinds
from mailsandbox.emulators.sendgrid.activity_query import QueryError, compile_query
from mailsandbox.emulators.sendgrid.auth import authorize
from mailsandbox.emulators.sendgrid.errors import SendGridError, not_found
from mailsandbox.emulators.sendgrid.event_format import asm_group
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import events, messages
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

router = APIRouter(dependencies=[Depends(authorize)])
MAX_LIMIT = 1000
SENDGRID_MESSAGES = (
    "SELECT id FROM messages WHERE json_extract(metadata_json, '$.sendgrid.x_message_id')"
    " IS NOT NULL ORDER BY created DESC, seq DESC"
)
ACTIVITY_NAMES = {
    "queued": "processed",
    "delivered": "delivered",
    "deferred": "deferred",
    "bounced": "bounced",
    "rejected": "dropped",
    "opened": "opened",
    "clicked": "clicked",
    "complained": "spam_report",
    "unsubscribed": "unsubscribe",
    "subscribed": "group_resubscribe",
}
DELIVERED = {"delivered", "opened", "clicked", "complained", "unsubscribed"}
NOT_DELIVERED = {"bounced", "rejected"}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_json(event: DeliveryEvent, group: int | None) -> dict[str, Any]:
    name = ACTIVITY_NAMES[event.type]
    if name == "unsubscribe" and group is not None:
        name = "group_unsubscribe"
    out: dict[str, Any] = {"event_name": name, "processed": _iso(event.created)}
    if event.type in ("deferred", "bounced", "rejected") and event.reason:
        out["reason"] = event.reason
    if event.type == "deferred":
        out["attempt_num"] = int(event.details.get("attempt", 1))
    if event.type == "bounced":
        blocked = bounce_kinds.bounce_type(event.details) == "blocked"
        out["bounce_type"] = "soft" if blocked else "hard"
    if event.type == "clicked":
        out["url"] = str(event.details.get("url", ""))
    if event.type in ("opened", "clicked"):
        out["http_user_agent"] = str(event.details.get("useragent", ""))
    if event.type == "delivered":
        out["mx_server"] = "mx.mailsandbox.local"
    return out


def _rows(summary: MessageSummary, found: list[DeliveryEvent]) -> list[dict[str, Any]]:
    """The activity rows of one message, one per recipient."""
    meta = summary.metadata["sendgrid"]
    group = asm_group(summary)
    rows = []
    for recipient in summary.recipients:
        own = [e for e in found if e.recipient.lower() == recipient.lower()]
        kinds = {e.type for e in own}
        status = (
            "delivered"
            if kinds & DELIVERED
            else "not_delivered"
            if kinds & NOT_DELIVERED
            else "processed"
        )
        last = max((e.created for e in own), default=summary.created)
        rows.append(
            {
                "from_email": summary.mail_from or summary.from_.address,
                "msg_id": str(meta.get("sg_message_id") or summary.id),
                "subject": summary.subject,
                "to_email": recipient,
                "status": status,
                "opens_count": sum(e.type == "opened" for e in own),
                "clicks_count": sum(e.type == "clicked" for e in own),
                "last_event_time": _iso(last),
                # for the detail view and the query language
                "template_id": str(meta.get("template_id") or ""),
                "asm_group_id": group,
                "categories": list(meta.get("categories") or []),
                "unique_args": dict(meta.get("custom_args") or {}),
                "originating_ip": "127.0.0.1",
                "outbound_ip": "127.0.0.1",
                "api_key_id": summary.username or "default",
                "events": [_event_json(e, group) for e in own if e.type in ACTIVITY_NAMES],
            }
        )
    return rows


def _all_rows(conn: Connection) -> list[dict[str, Any]]:
    out = []
    for (message_id,) in conn.execute(SENDGRID_MESSAGES).fetchall():
        summary = messages.get_summary(conn, message_id)
        if summary is not None:
            out += _rows(summary, events.for_message(conn, message_id))
    return out


ROW_KEYS = (
    "from_email",
    "msg_id",
    "subject",
    "to_email",
    "status",
    "opens_count",
    "clicks_count",
    "last_event_time",
)


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


@router.get("/v3/messages")
async def filter_messages(request: Request) -> JSONResponse:
    q = request.query_params
    limit_text = q.get("limit", "10")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise SendGridError.one(400, "limit must be an integer between 1 and 1000", "limit")
    try:
        matches = compile_query(q.get("query", ""))
    except QueryError as exc:
        raise SendGridError.one(400, str(exc)) from exc
    rows = await _sandbox(request).db.read(_all_rows)
    found = [{k: row[k] for k in ROW_KEYS} for row in rows if matches(row)]
    return JSONResponse({"messages": found[: int(limit_text)]})


@router.get("/v3/messages/{msg_id}")
async def get_message(request: Request, msg_id: str) -> JSONResponse:
    rows = await _sandbox(request).db.read(_all_rows)
    row = next((r for r in rows if r["msg_id"] == msg_id), None)
    if row is None:
        raise not_found()
    detail = {k: row[k] for k in ("from_email", "msg_id", "subject", "to_email", "status")}
    detail |= {
        "template_id": row["template_id"],
        "asm_group_id": row["asm_group_id"],
        "teammate": "",
        "api_key_id": row["api_key_id"],
        "events": row["events"],
        "originating_ip": row["originating_ip"],
        "categories": row["categories"],
        "unique_args": json.dumps(row["unique_args"]),
        "outbound_ip": row["outbound_ip"],
        "outbound_ip_type": "dedicated",
    }
    return JSONResponse(detail)
