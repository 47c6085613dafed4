"""``POST /v3/{domain}/messages`` and ``/messages.mime``: every accepted message goes through
the core's ``ingest()`` (source ``mailgun``, inbox = the API key) and the 200 answer comes only
after the commit. Batch sends (``recipient-variables``) become one message per recipient with
``%recipient.x%`` substituted; stored templates render with Handlebars semantics.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mailsandbox import ids
from mailsandbox.emulators import handlebars
from mailsandbox.emulators.common.storing import store_all
from mailsandbox.emulators.hot_routes import direct
from mailsandbox.emulators.mailgun import template_store
from mailsandbox.emulators.mailgun.auth import Caller, caller
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json
from mailsandbox.emulators.mailgun.forms import read_form
from mailsandbox.emulators.mailgun.mime_build import Content, build_parsed
from mailsandbox.emulators.mailgun.sending import (
    Options,
    SendRequest,
    parse_options,
    parse_send,
    recipients,
)
from mailsandbox.ingest import Inbound
from mailsandbox.mime import ParsedMessage, html_to_text

router = APIRouter()
_PLACEHOLDER = re.compile(r"%recipient\.([A-Za-z0-9_\-]+)%")
QUEUED = "Queued. Thank you."


def new_message_id(domain: str) -> str:
    """Mailgun-looking id: ``20240101120000.<random>@domain`` (no angle brackets)."""
    return f"{time.strftime('%Y%m%d%H%M%S', time.gmtime())}.{ids.new_id()}@{domain}"


def substitute(text: str, values: dict[str, Any], address: str) -> str:
    """``%recipient.x%`` → the recipient's value (missing keys → empty)."""
    if "%recipient" not in text:
        return text
    text = text.replace("%recipient_email%", address)
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), text)


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
    for name, addr in req.to:
        values = by_address.get(addr.lower()) or {}
        values = values if isinstance(values, dict) else {}

        def sub(text: str, values: dict[str, Any] = values, addr: str = addr) -> str:
            return substitute(text, values, addr)

        content = replace(
            base,
            to=[(name, addr)],
            subject=sub(base.subject),
            text=sub(base.text),
            html=sub(base.html),
            amp_html=sub(base.amp_html),
            headers={k: sub(v) for k, v in base.headers.items()},
        )
        out.append((content, _envelope([(name, addr)], req.cc, req.bcc), addr))
    return out


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
    inbounds = []
    for content, rcpts, recipient in _contents(req, message_id):
        raw, parsed = build_parsed(content)  # parsed: ingest need not parse what it built
        one = {**meta, "recipient": recipient} if recipient else meta
        inbounds.append(_inbound(c, raw, req.sender[1], rcpts, req.options, one, parsed))
    await store_all(c.sandbox, inbounds)  # answered at the commit
    return mg_json({"id": f"<{message_id}>", "message": QUEUED})


@router.post("/v3/{domain:mgdomain}/messages.mime")
@direct
async def send_mime(request: Request) -> JSONResponse:
    c = await caller(request)
    form = await read_form(request)
    to = recipients(form, "to", required=True)
    files = form.files_named("message")
    raw = files[0].data if files else form.first("message").encode()
    if not raw.strip():
        raise bad_request("'message' parameter is missing")
    options = parse_options(form)
    headers = BytesHeaderParser().parsebytes(raw)
    message_id = str(headers.get("Message-ID", "")).strip("<> ")
    if not message_id:
        message_id = new_message_id(c.domain)
        raw = f"Message-ID: <{message_id}>\r\n".encode() + raw
    sender = parseaddr(str(headers.get("From", "")))[1]
    meta = options.metadata(message_id, c.domain)
    inbound = _inbound(c, raw, sender, _envelope(to), options, meta)
    await store_all(c.sandbox, [inbound])
    return mg_json({"id": f"<{message_id}>", "message": QUEUED})
