"""``POST /v3/mail/send``: validate, render each personalization into a real MIME message,
store it through the shared ingest path, answer 202 with ``X-Message-Id`` once all are committed.

Sandbox mode (``mail_settings.sandbox_mode.enable``) validates only and answers 200; such a
request is logged (logger ``mailsandbox.emulators.sendgrid.mail``) and kept in a small in-memory
ring, ``sandbox.extensions["sendgrid.sandbox_mode"]``, never stored as a message and never
announced on the bus (it produced no mail, so nothing may look delivered). Recipients at
``sink.sendgrid.net`` are accepted and discarded, as SendGrid does. A sender at a ``.invalid``
domain gets the 403 "unverified Sender Identity" answer, so apps can test that path.

A ``template_id`` of the right form (``d-`` and 32 hex digits, or a legacy template's UUID)
that names no template is accepted, as SendGrid accepts it ("the API itself doesn't do any of
the character validations, that happens later": sendgrid/docs#2616, sendgrid-go#255); the
message is stored and each recipient is then ``dropped`` with reason ``Invalid SMTPAPI
header`` (the drop reason of sendgrid/docs#69), which ``event_webhooks`` decides from the
``template_missing`` flag of its metadata.
"""

from __future__ import annotations

import collections
import logging
import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mailsandbox.emulators.common import mime_build
from mailsandbox.emulators.common.ids import url_safe_id
from mailsandbox.emulators.common.storing import store_all
from mailsandbox.emulators.hot_routes import direct
from mailsandbox.emulators.sendgrid import template_store
from mailsandbox.emulators.sendgrid.auth import authorize
from mailsandbox.emulators.sendgrid.body import read_object
from mailsandbox.emulators.sendgrid.errors import SendGridError
from mailsandbox.emulators.sendgrid.render import render
from mailsandbox.emulators.sendgrid.validation import validate
from mailsandbox.ingest import Inbound
from mailsandbox.runtime import Sandbox

log = logging.getLogger(__name__)
router = APIRouter()
SINK_DOMAIN = "sink.sendgrid.net"
SANDBOX_LOG = "sendgrid.sandbox_mode"
UNVERIFIED_SENDER = (
    "The from address does not match a verified Sender Identity. Mail cannot be sent until this "
    "error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/"
    "sender-identity/ to see the Sender Identity requirements"
)


# the forms of a template id SendGrid accepts before looking it up
WELL_FORMED_TEMPLATE = re.compile(
    r"d-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


def _flag(settings: dict[str, Any], key: str, default: bool) -> bool:
    block = settings.get(key)
    return bool(block.get("enable", default)) if isinstance(block, dict) else default


def metadata(body: dict[str, Any], p: dict[str, Any], x_id: str, index: int) -> dict[str, Any]:
    """The ``{"sendgrid": {...}}`` metadata of personalization ``index`` (common.md convention)."""
    tracking = body.get("tracking_settings") or {}
    mail_settings = body.get("mail_settings") or {}
    return {
        "sendgrid": {
            "x_message_id": x_id,
            "sg_message_id": f"{x_id}.filterdrecv-mailsandbox-{index}.0",
            "personalization": index,
            "categories": list(body.get("categories") or []),
            "custom_args": {**(body.get("custom_args") or {}), **(p.get("custom_args") or {})},
            "batch_id": body.get("batch_id"),
            "asm": body.get("asm"),
            "send_at": p.get("send_at", body.get("send_at")),
            "template_id": body.get("template_id"),
            "ip_pool_name": body.get("ip_pool_name"),
            "tracking": {
                "click": _flag(tracking, "click_tracking", True),
                "open": _flag(tracking, "open_tracking", True),
                "subscription": _flag(tracking, "subscription_tracking", False),
            },
            "mail_settings": {
                key: bool(block.get("enable"))
                for key, block in mail_settings.items()
                if isinstance(block, dict)
            },
        }
    }


def _inbound(
    body: dict[str, Any],
    p: dict[str, Any],
    index: int,
    x_id: str,
    key: str,
    template: template_store.Template | None,
    hostname: str,
) -> Inbound | None:
    """The stored form of one personalization, or None when every recipient is a sink."""
    sender = p.get("from") or body["from"]
    recipients = [a["email"] for kind in ("to", "cc", "bcc") for a in p.get(kind) or []]
    delivered = [r for r in recipients if r.rsplit("@", 1)[-1].lower() != SINK_DOMAIN]
    if not delivered:
        return None
    rendered = render(body, p, template)
    reply_to = body.get("reply_to_list") or ([body["reply_to"]] if body.get("reply_to") else [])
    envelope = mime_build.Envelope(
        sender=sender,
        to=p["to"],
        cc=p.get("cc") or [],
        reply_to=reply_to,
        subject=rendered.subject,
        headers={**(body.get("headers") or {}), **(p.get("headers") or {})},
        message_id=f"<{x_id}@{hostname}>",
    )
    raw, parsed = mime_build.build_parsed(
        envelope, rendered.contents, body.get("attachments") or []
    )
    return Inbound(
        raw=raw,
        mail_from=sender["email"],
        rcpt_tos=delivered,
        source="sendgrid",
        username=key if key != "default" else "",
        inbox=key,
        tags=list(body.get("categories") or []),
        metadata=metadata(body, p, x_id, index),
        parsed=parsed,
    )


async def _template(sandbox: Sandbox, body: dict[str, Any]) -> template_store.Template | None:
    """The stored template the send names (None: no template_id, or an unknown one of the
    right form, which is dropped later); 400 for an id of the wrong form."""
    template_id = body.get("template_id")
    if not isinstance(template_id, str) or not template_id:
        return None
    template = await sandbox.db.read(lambda conn: template_store.get(conn, template_id))
    if template is None and not WELL_FORMED_TEMPLATE.fullmatch(template_id):
        raise SendGridError.one(
            400,
            f"The template_id must be a valid GUID, you provided '{template_id}'.",
            "template_id",
        )
    return template


def _log_sandbox_mode(sandbox: Sandbox, body: dict[str, Any], x_id: str, key: str) -> None:
    ring: collections.deque[dict[str, Any]] = sandbox.extensions.setdefault(
        SANDBOX_LOG, collections.deque(maxlen=100)
    )
    recipients = [
        a.get("email")
        for p in body["personalizations"]
        for k in ("to", "cc", "bcc")
        for a in p.get(k) or []
    ]
    entry = {
        "time": time.time(),
        "x_message_id": x_id,
        "inbox": key,
        "recipients": recipients,
        "from": body["from"].get("email"),
        "subject": body.get("subject", ""),
    }
    ring.append(entry)
    log.info("sendgrid sandbox_mode request %s validated, not sent: %s", x_id, entry)


@router.post("/v3/mail/send")
@direct  # served by a plain Starlette route (mailsandbox.emulators.hot_routes): no Depends here
async def mail_send(request: Request) -> Response:
    key = await authorize(request)  # first, as the Depends it was
    sandbox: Sandbox = request.app.state.sandbox
    body = await read_object(request)
    template = await _template(sandbox, body)
    active = template.active_version() if template else None
    missing = template is None and bool(body.get("template_id"))
    # an unknown template could have a subject: SendGrid cannot tell until it looks it up
    validate(body, template_subject=missing or bool(active and active.subject))
    if str(body["from"]["email"]).lower().endswith(".invalid"):
        raise SendGridError.one(403, UNVERIFIED_SENDER, "from")
    x_id = url_safe_id()  # like kA5kcHA8SVGtVh5S9rAUew
    headers = {"X-Message-Id": x_id}
    if _flag(body.get("mail_settings") or {}, "sandbox_mode", False):
        _log_sandbox_mode(sandbox, body, x_id, key)
        return Response(status_code=200, headers=headers)
    hostname = sandbox.settings.smtp_hostname
    inbounds = [
        _inbound(body, p, i, x_id, key, template, hostname)
        for i, p in enumerate(body["personalizations"])
    ]
    stored = [i for i in inbounds if i is not None]
    if missing:
        for inbound in stored:
            inbound.metadata["sendgrid"]["template_missing"] = True
    await store_all(sandbox, stored)  # answered at the commit
    return Response(status_code=202, headers=headers)
