"""``GET /v3/domains/{domain}/messages/{key}``: the stored message an event's ``storage.url``
points at, in Mailgun's JSON shape (``body-mime`` instead of the parsed fields when the client
asks for ``Accept: message/rfc2822``); ``POST`` to the same URL with ``to`` resends it
(api-sending.rst, "An example of how to resend a message"; mailgun.js ``resendEmail``).

A resend stores a new message: the stored MIME with a new ``Message-ID`` (and without the
``Bcc``/``Return-Path`` lines the first ingest added), for the new envelope recipients, with
the first send's tags, variables and test mode.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox import mime
from mailsandbox.emulators.mailgun.auth import Caller, caller
from mailsandbox.emulators.mailgun.errors import mg_json, not_found
from mailsandbox.emulators.mailgun.forms import read_form
from mailsandbox.emulators.mailgun.messages import QUEUED, ingest_mime
from mailsandbox.emulators.mailgun.sending import Options, recipients
from mailsandbox.storage import messages

# header lines (with their continuation lines) a resend does not copy
_NOT_COPIED = re.compile(
    rb"^(?:message-id|bcc|return-path):[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE
)

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


def _copy(raw: bytes) -> bytes:
    """The stored message without the headers that belong to its first delivery."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    return _NOT_COPIED.sub(b"", head + b"\r\n") + sep[2:] + body if sep else raw


@router.post("/v3/domains/{domain}/messages/{key}")
async def resend_message(key: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    form = await read_form(request)
    to = [address for _, address in recipients(form, "to", required=True)]
    found = await c.sandbox.db.read(lambda conn: _load(conn, key, c.domain))
    if found is None:
        raise not_found("Message not found")
    raw, summary = found
    first = summary.metadata["mailgun"]
    options = Options(
        tags=list(first.get("tags") or []),
        testmode=bool(first.get("testmode")),
        user_variables=dict(first.get("user_variables") or {}),
    )
    message_id = await ingest_mime(c, request, _copy(raw), to, options)
    return mg_json({"id": f"<{message_id}>", "message": QUEUED})
