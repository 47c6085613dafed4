"""SendGrid's side of the event engine: which Event Webhooks get an event, the signed POST, and
how SendGrid's rules decide a message's fate.

Made by :func:`adapter` at the provider's first message or event (``install()`` registers it
lazily, see ``emulators.common.lazy_hooks``). Events go to every enabled
``sendgrid`` endpoint (legacy or multi-webhook) that has the event's SendGrid name switched on,
batched as one JSON array per POST, ECDSA-signed (``X-Twilio-Email-Event-Webhook-*``) when the
endpoint's signing is on. Any non-2xx is retried for 24 h.

Lists: a bounce adds to the bounces list with its enhanced status code (``5.1.1``), a blocked
one to the blocks list, which does not drop later sends ("SendGrid does not treat the blocks
list as a suppression list", twilio.com/docs/sendgrid/glossary/blocks); an unsubscribe from a
send with ``asm.group_id`` adds to that group, and a send with ``asm.group_id`` is dropped for
an address of its group as for a global unsubscribe. Gates: an unknown ``template_id`` drops
every recipient ("Invalid SMTPAPI header"); a paused or cancelled batch holds the lifecycle
(see :mod:`.batch_api` for what removing the status does).
"""

from __future__ import annotations

import json
import time
from typing import Any

from mailsandbox.emulators.common.events import provider_meta
from mailsandbox.emulators.sendgrid import asm_store, batch_store, bounce_kinds
from mailsandbox.emulators.sendgrid.event_format import (
    asm_group,
    sendgrid_event,
    sendgrid_ids,
    sendgrid_name,
)
from mailsandbox.emulators.sendgrid.signing import SendGridSigner
from mailsandbox.events.providers import DAY, OPEN, BaseProvider, Gate, Target
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection
from mailsandbox.storage.suppressions import Suppression

USER_AGENT = "SendGrid Event API"
INVALID_TEMPLATE = "Invalid SMTPAPI header"  # the drop reason (sendgrid/docs#69)


def _meta(message: MessageSummary) -> dict[str, Any]:
    return provider_meta(message, "sendgrid")


class SendGridWebhooks(BaseProvider):
    name = "sendgrid"
    batch = True
    retry_window = DAY
    reasons = {
        **{k: v for k, v in BaseProvider.reasons.items() if k != "block"},
        asm_store.KIND: "Unsubscribed Address",
    }

    def __init__(self, signer: SendGridSigner) -> None:
        self.signer = signer

    def targets(
        self, conn: Connection, event: DeliveryEvent, message: MessageSummary
    ) -> list[Target]:
        wanted = sendgrid_name(event, message)
        return [
            Target(e.url, e.id, e.signed)
            for e in webhooks.list_endpoints(conn, provider=self.name)
            if e.enabled and e.url and wanted in e.events
        ]

    def payload(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
        return sendgrid_event(event, message)

    def ids(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]:
        return sendgrid_ids(event, message)  # those of sendgrid_event, without the rest

    def suppression_scopes(self, message: MessageSummary) -> tuple[str, ...]:
        group = asm_group(message)
        return ("",) if group is None else ("", asm_store.scope(group))

    def suppression_for(self, event: DeliveryEvent, message: MessageSummary) -> Suppression | None:
        group = asm_group(message)
        if event.type == "unsubscribed" and group is not None:
            return Suppression(asm_store.KIND, event.recipient, asm_store.scope(group))
        if event.type == "bounced":
            kind = "block" if bounce_kinds.bounce_type(event.details) == "blocked" else "bounce"
            status = bounce_kinds.status_of(event.details)  # the list's "status": "5.1.1"
            return Suppression(kind, event.recipient, "", event.reason, status)
        return super().suppression_for(event, message)

    def gate(self, conn: Connection, message: MessageSummary) -> Gate:
        meta = _meta(message)
        if meta.get("template_missing"):
            return Gate(drop=(INVALID_TEMPLATE, {"template_missing": True}))
        batch_id = meta.get("batch_id")
        found = batch_store.status(conn, batch_id) if isinstance(batch_id, str) else ""
        return Gate(hold=True) if found in batch_store.STATUSES else OPEN

    def scheduled_at(self, message: MessageSummary) -> float | None:
        send_at = _meta(message).get("send_at")
        if isinstance(send_at, bool) or not isinstance(send_at, int) or send_at <= 0:
            return None
        return float(send_at)

    def request(self, payloads: list[dict[str, Any]], signed: bool) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payloads, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if signed:
            headers.update(self.signer.headers(body, str(int(time.time()))))
        return body, headers


def adapter(sandbox: Sandbox) -> SendGridWebhooks:
    signer: SendGridSigner = sandbox.extensions["sendgrid.signer"]
    return SendGridWebhooks(signer)
