"""``GET /v3/domains/{domain}/messages/{key}``: the stored message an event's ``storage.url``
points at, in Mailgun's JSON shape (``body-mime`` instead of the parsed fields when the client
asks for ``Accept: message/rfc2822``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.mailgun.auth import Caller, caller
from mailsandbox.emulators.mailgun.errors import mg_json, not_found
from mailsandbox.storage import messages
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

router = APIRouter()


def _load(conn: Connection, key: str, domain: str) -> MessageSummary | None:
    summary = messages.get_summary(conn, key)
    options = summary.metadata.get("mailgun") if summary else None
    if summary is None or not isinstance(options, dict) or options.get("domain") != domain:
        return None
    return summary


@router.get("/v3/domains/{domain}/messages/{key}")
async def stored_message(key: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    summary = await c.sandbox.db.read(lambda conn: _load(conn, key, c.domain))
    if summary is None:
        raise not_found("Message not found")
    opened = await c.sandbox.reader.open(summary.id, summary.seq, summary.size, summary.subject)
    common = {
        "recipients": ", ".join(summary.recipients),
        "sender": summary.mail_from,
        "from": opened.header("From"),
        "subject": summary.subject,
    }
    if "message/rfc2822" in request.headers.get("accept", ""):
        raw = await c.sandbox.db.read(lambda conn: messages.get_raw(conn, key)) or b""
        return mg_json({**common, "body-mime": raw.decode("utf-8", errors="replace")})
    parsed = opened.parsed
    headers = [[k, v] for k, v in opened.headers]
    attachments = [
        {"name": p.filename, "content-type": p.content_type, "size": p.size}
        for p in parsed.attachments
    ]
    body = {
        **common,
        "body-plain": parsed.text,
        "stripped-text": parsed.text,
        "body-html": parsed.html,
        "stripped-html": parsed.html,
        "message-headers": headers,
        "attachments": attachments,
        "content-id-map": {},
    }
    return mg_json(body)
