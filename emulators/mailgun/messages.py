"""``POST /v3/{domain}/messages`` and ``/messages.mime``: every accepted message goes through
the core's ``ingest()`` (source ``mailgun``, inbox = the API key) and the 200 answer comes only
after the commit. Batch sends (``recipient-variables``) become one message per recipient with
``%recipient.KEY%`` substituted (keys may contain colons: django-anymail's ``merge_metadata``
sends ``v:key=%recipient.v:key%``), in the subject, the bodies, the ``h:`` headers and the
``v:`` variables (user manual, "Batch Sending" and "Attaching Data to Messages": a variable of
``v:recipient-id=%recipient.id%`` reaches that recipient's events as ``{"recipient-id": "123"}``).
Stored templates render with Handlebars semantics.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import replace
from email.parser import BytesHeaderParser
from email.utils import formataddr, parseaddr
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mailsandbox import ids
from mailsandbox.emulators import handlebars
from mailsandbox.emulators.common.storing import store_all
from mailsandbox.emulators.hot_routes import direct
from mailsandbox.emulators.mailgun import template_store
from mailsandbox.emulators.mailgun.auth import Caller, base_url, caller
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json
from mailsandbox.emulators.mailgun.forms import FilePart, read_form
from mailsandbox.emulators.mailgun.mime_build import Content, build_parsed
from mailsandbox.emulators.mailgun.sending import (
    Address,
    Options,
    SendRequest,
    parse_options,
    parse_send,
    recipients,
)
from mailsandbox.ingest import Inbound
from mailsandbox.mime import ParsedMessage, html_to_text, parse_message

router = APIRouter()
# %recipient% (the full address), %recipient_email%, %recipient_name%, %recipient.KEY%
_PLACEHOLDER = re.compile(r"%recipient(?:_(email|name)|\.([^%\s]+))?%")
QUEUED = "Queued. Thank you."


def new_message_id(domain: str) -> str:
    """Mailgun-looking id: ``20240101120000.<random>@domain`` (no angle brackets)."""
    return f"{time.strftime('%Y%m%d%H%M%S', time.gmtime())}.{ids.new_id()}@{domain}"


def substitute(text: str, values: dict[str, Any], address: tuple[str, str]) -> str:
    """Mailgun's recipient placeholders in ``text`` for one recipient (``(name, email)``) and
    their recipient variables; a key they lack becomes empty."""
    if "%recipient" not in text:
        return text
    name, email = address

    def value(match: re.Match[str]) -> str:
        special, key = match.group(1), match.group(2)
        if key is not None:
            found = values.get(key, "")
            return found if isinstance(found, str) else json.dumps(found)
        if special == "email":
            return email
        if special == "name":
            return name
        return formataddr((name, email)) if name else email

    return _PLACEHOLDER.sub(value, text)


def _substituted(variables: dict[str, Any], sub: Callable[[str], str]) -> dict[str, Any]:
    return {k: sub(v) if isinstance(v, str) else v for k, v in variables.items()}


async def _render_template(c: Caller, req: SendRequest) -> tuple[str, str]:
    """The (html, text) of a stored template send; 400 when it does not exist or fails."""
    version = req.template_version or None
    row = await c.sandbox.db.read(
        lambda conn: template_store.get_version(conn, c.domain, req.template, version)
    )
    if row is None:
        raise bad_request("template not found")
    data: dict[str, Any] = {**req.options.user_variables, **req.template_variables}
    try:
        html = handlebars.render(row["template"], data)
    except handlebars.TemplateError as exc:
        raise bad_request(str(exc)) from exc
    return html, html_to_text(html) if req.template_text else ""


def _envelope(*groups: list[tuple[str, str]]) -> list[str]:
    seen: dict[str, str] = {}
    for group in groups:
        for _, addr in group:
            seen.setdefault(addr.lower(), addr)
    return list(seen.values())


def _contents(req: SendRequest, message_id: str) -> list[tuple[Content, list[str], str]]:
    """(content, envelope recipients, batch recipient) for each message to store."""
    base = Content(
        sender=req.sender,
        to=req.to,
        cc=req.cc,
        subject=req.subject,
        message_id=message_id,
        text=req.text,
        html=req.html,
        amp_html=req.amp_html,
        headers=dict(req.options.headers),
        tags=req.options.tags,
        variables=req.options.user_variables,
        attachments=req.attachments,
        inlines=req.inlines,
    )
    if req.recipient_variables is None:
        return [(base, _envelope(req.to, req.cc, req.bcc), "")]
    out = []
    by_address = {k.strip().lower(): v for k, v in req.recipient_variables.items()}
    for address in req.to:
        values = by_address.get(address[1].lower()) or {}
        values = values if isinstance(values, dict) else {}

        def sub(text: str, values: dict[str, Any] = values, address: Address = address) -> str:
            return substitute(text, values, address)

        content = replace(
            base,
            to=[address],
            subject=sub(base.subject),
            text=sub(base.text),
            html=sub(base.html),
            amp_html=sub(base.amp_html),
            headers=_substituted(base.headers, sub),
            variables=_substituted(base.variables, sub),
        )
        out.append((content, _envelope([address], req.cc, req.bcc), address[1]))
    return out


def attachment_json(filename: str, content_type: str, size: int) -> dict[str, Any]:
    """One of the ``message.attachments`` of Mailgun's events (api-events.rst)."""
    return {"filename": filename, "content-type": content_type, "size": size}


def attachments_json(files: list[FilePart]) -> list[dict[str, Any]]:
    return [attachment_json(f.filename, f.content_type, len(f.data)) for f in files]


def _mime_attachments(raw: bytes) -> list[dict[str, Any]]:
    try:
        parsed = parse_message(raw)
    except Exception:  # stored all the same; it just lists none
        return []
    parts = [*parsed.attachments, *parsed.inlines]
    return [attachment_json(p.filename, p.content_type, p.size) for p in parts]


def _pop_header(headers: dict[str, str], name: str) -> str:
    for key in list(headers):
        if key.lower() == name:
            return headers.pop(key)
    return ""


def _inbound(
    c: Caller,
    raw: bytes,
    sender: str,
    rcpts: list[str],
    opts: Options,
    meta: dict[str, Any],
    parsed: ParsedMessage | None = None,
) -> Inbound:
    return Inbound(
        raw=raw,
        mail_from=sender,
        rcpt_tos=rcpts,
        source="mailgun",
        username="api" if c.key else "",
        inbox=c.inbox,
        tags=list(opts.tags),
        metadata={"mailgun": meta},
        parsed=parsed,
    )


@router.post("/v3/{domain:mgdomain}/messages")
@direct  # served by a plain Starlette route (mailsandbox.emulators.hot_routes): no Depends here
async def send_message(request: Request) -> JSONResponse:
    c = await caller(request)  # first, as the Depends it was
    req = parse_send(await read_form(request))
    if req.template:
        html, text = await _render_template(c, req)
        req.html, req.text = req.html or html, req.text or text
    message_id = _pop_header(req.options.headers, "message-id").strip("<> ")
    message_id = message_id or new_message_id(c.domain)
    meta = req.options.metadata(message_id, c.domain)
    meta["template"] = req.template
    meta["attachments"] = attachments_json(req.attachments + req.inlines)
    meta["api_url"] = base_url(request)
    inbounds = []
    for content, rcpts, recipient in _contents(req, message_id):
        raw, parsed = build_parsed(content)  # parsed: ingest need not parse what it built
        one = meta
        if recipient:
            one = {**meta, "recipient": recipient, "user_variables": content.variables}
        inbounds.append(_inbound(c, raw, req.sender[1], rcpts, req.options, one, parsed))
    await store_all(c.sandbox, inbounds)  # answered at the commit
    return mg_json({"id": f"<{message_id}>", "message": QUEUED})


async def ingest_mime(
    c: Caller, request: Request, raw: bytes, to: list[str], options: Options
) -> str:
    """Store a ready-made MIME message for ``to`` (``messages.mime``, and a resend of a
    stored message); returns its message id (without angle brackets)."""
    headers = BytesHeaderParser().parsebytes(raw)
    message_id = str(headers.get("Message-ID", "")).strip("<> ")
    if not message_id:
        message_id = new_message_id(c.domain)
        raw = f"Message-ID: <{message_id}>\r\n".encode() + raw
    sender = parseaddr(str(headers.get("From", "")))[1]
    meta = options.metadata(message_id, c.domain)
    meta["attachments"] = _mime_attachments(raw)
    meta["api_url"] = base_url(request)
    await store_all(c.sandbox, [_inbound(c, raw, sender, to, options, meta)])
    return message_id


@router.post("/v3/{domain:mgdomain}/messages.mime")
@direct
async def send_mime(request: Request) -> JSONResponse:
    c = await caller(request)
    form = await read_form(request)
    to = recipients(form, "to", required=True)
    files = form.files_named("message")
    if not files and form.first("message").strip():
        raise bad_request("'message' parameter is not a file")  # api-sending.rst error table
    if not files or not files[0].data.strip():
        raise bad_request("'message' parameter is missing")
    message_id = await ingest_mime(c, request, files[0].data, _envelope(to), parse_options(form))
    return mg_json({"id": f"<{message_id}>", "message": QUEUED})
