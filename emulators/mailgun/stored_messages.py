"""``GET /v3/domains/{domain}/messages/{key}``: a stored message in Mailgun's JSON shape (see
:mod:`.inbound_fields`; ``body-mime`` instead of the parsed fields when the client asks for
``Accept: message/rfc2822``), and ``.../attachments/{n}`` for each of its files.

Stored are the messages sent through this domain (what an event's ``storage.url`` points at)
and inbound mail a route ``store()``d for a recipient at this domain (the ``message-url`` of a
``store(notify=...)`` POST).

``POST`` to the same URL with ``to`` resends it (api-sending.rst, "An example of how to resend
a message"; mailgun.js ``resendEmail``): a new stored message, the stored MIME with a new
``Message-ID`` (and without the ``Bcc``/``Return-Path`` lines the first ingest added), for the
new envelope recipients, with the first send's tags, variables and test mode.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from mailsandbox.emulators.common.events import provider_meta
from mailsandbox.emulators.mailgun import inbound_fields as fields
from mailsandbox.emulators.mailgun.auth import Caller, base_url, caller
from mailsandbox.emulators.mailgun.errors import mg_json, not_found
from mailsandbox.emulators.mailgun.forms import read_form
from mailsandbox.emulators.mailgun.messages import QUEUED, ingest_mime
from mailsandbox.emulators.mailgun.sending import Options, recipients
from mailsandbox.inbound import content
from mailsandbox.inbound.records import records_of, stored_message
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

router = APIRouter()
PATH = "/v3/domains/{domain}/messages/{key}"
# header lines (with their continuation lines) a resend does not copy
_NOT_COPIED = re.compile(
    rb"^(?:message-id|bcc|return-path):[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE
)


def _stored_as(summary: MessageSummary, domain: str) -> str | None:
    """``sent`` (through this domain), ``received`` (a route stored it for this domain) or None."""
    if provider_meta(summary, "mailgun").get("domain") == domain:
        return "sent"
    stored_here = (r.get("stored") == domain.lower() for r in records_of(summary.metadata) or [])
    return "received" if any(stored_here) else None


Found = tuple[MessageSummary, bytes, str]


def _load(conn: Connection, key: str, domain: str) -> Found | None:
    found = stored_message(conn, key)
    kind = _stored_as(found[0], domain) if found is not None else None
    return None if found is None or kind is None else (*found, kind)


async def _found(c: Caller, key: str) -> Found:
    found = await c.sandbox.db.read(lambda conn: _load(conn, key, c.domain))
    if found is None:
        raise not_found("Message not found")
    return found


@router.get(PATH)
async def stored(key: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    summary, raw, kind = await _found(c, key)
    recipient = next(iter(summary.recipients), "")
    item = fields.received(summary, raw, recipient, incoming=kind == "received")
    if "message/rfc2822" in request.headers.get("accept", ""):
        mime = fields.added_headers(item) + raw
        return mg_json(
            {
                "recipients": ", ".join(summary.recipients),
                "sender": item.sender,
                "from": item.header("From"),
                "subject": item.header("Subject"),
                "body-mime": mime.decode("utf-8", errors="replace"),
            }
        )
    url = f"{base_url(request)}/v3/domains/{c.domain}/messages/{key}"
    return mg_json(fields.stored_json(item, summary, c.domain, url))


@router.get(PATH + "/attachments/{number}")
async def stored_attachment(key: str, number: int, c: Caller = Depends(caller)) -> Response:
    _, raw, _ = await _found(c, key)
    files = content.read(raw).files
    if not 0 <= number < len(files):
        raise not_found("Attachment not found")
    part = files[number]
    disposition = f'attachment; filename="{part.filename.replace(chr(34), "")}"'
    headers = {"Content-Disposition": disposition}
    return Response(part.data, media_type=part.content_type, headers=headers)


def _copy(raw: bytes) -> bytes:
    """The stored message without the headers that belong to its first delivery."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    return _NOT_COPIED.sub(b"", head + b"\r\n") + sep[2:] + body if sep else raw


@router.post(PATH)
async def resend_message(key: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    form = await read_form(request)
    to = [address for _, address in recipients(form, "to", required=True)]
    summary, raw, _ = await _found(c, key)
    first = provider_meta(summary, "mailgun")
    options = Options(
        tags=list(first.get("tags") or []),
        testmode=bool(first.get("testmode")),
        user_variables=dict(first.get("user_variables") or {}),
    )
    message_id = await ingest_mime(c, request, _copy(raw), to, options)
    return mg_json({"id": f"<{message_id}>", "message": QUEUED})
