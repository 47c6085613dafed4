"""``GET /v3/domains/{domain}/messages/{key}``: the stored message an event's ``storage.url``
points at, in Mailgun's JSON shape (``body-mime`` instead of the parsed fields when the client
asks for ``Accept: message/rfc2822``)."""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox import mime
from mailsandbox.emulators.mailgun.auth import Caller, caller
from mailsandbox.emulators.mailgun.errors import mg_json, not_found
from mailsandbox.storage import messages

router = APIRouter()


def _load(conn: sqlite3.Connection, key: str, domain: str) -> tuple[bytes, Any] | None:
    summary = messages.get_summary(conn, key)
    options = summary.metadata.get("mailgun") if summary else None
    if summary is None or not isinstance(options, dict) or options.get("domain") != domain:
        return None
    raw = messages.get_raw(conn, key)
    return None if raw is None else (raw, summary)


@router.get("/v3/domains/{domain}/messages/{key}")
async def stored_message(key: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    found = await c.sandbox.db.read(lambda conn: _load(conn, key, c.domain))
    if found is None:
        raise not_found("Message not found")
    raw, summary = found
    common = {
        "recipients": ", ".join(summary.recipients),
        "sender": summary.mail_from,
        "from": mime.decode_header_value(mime.load(raw).get("From", "")),
        "subject": summary.subject,
    }
    if "message/rfc2822" in request.headers.get("accept", ""):
        return mg_json({**common, "body-mime": raw.decode("utf-8", errors="replace")})
    parsed = mime.parse_message(raw)
    headers = [[k, mime.decode_header_value(v)] for k, v in mime.load(raw).items()]
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
