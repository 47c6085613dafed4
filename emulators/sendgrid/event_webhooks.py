"""SendGrid's side of the event engine: which Event Webhooks get an event, and the signed POST.

Registered by ``install()`` into ``mailsandbox.events.providers``. Events go to every enabled
``sendgrid`` endpoint (legacy or multi-webhook) that has the event's SendGrid name switched on,
batched as one JSON array per POST, ECDSA-signed (``X-Twilio-Email-Event-Webhook-*``) when the
endpoint's signing is on. Any non-2xx is retried for 24 h.
"""

from __future__ import annotations

import json
import time
from typing import Any

from mailsandbox.emulators.sendgrid.event_format import (
    SENDGRID_EVENT_NAMES,
    sendgrid_event,
    sendgrid_ids,
)
from mailsandbox.emulators.sendgrid.signing import SendGridSigner
from mailsandbox.events import providers
from mailsandbox.events.providers import DAY, BaseProvider, Target
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

USER_AGENT = "SendGrid Event API"


class SendGridWebhooks(BaseProvider):
    name = "sendgrid"
    batch = True
    retry_window = DAY

    def __init__(self, signer: SendGridSigner) -> None:
        self.signer = signer

    def targets(
        self, conn: Connection, event: DeliveryEvent, message: MessageSummary
    ) -> list[Target]:
        wanted = SENDGRID_EVENT_NAMES.get(event.type)
        return [
            Target(e.url, e.id, e.signed)
            for e in webhooks.list_endpoints(conn, provider=self.name)
            if e.enabled and e.url and wanted in e.events
        ]

    def payload(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
        return sendgrid_event(event, message)

    def ids(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]:
        return sendgrid_ids(event, message)  # those of sendgrid_event, without the rest

    def scheduled_at(self, message: MessageSummary) -> float | None:
        meta = message.metadata.get("sendgrid")
        send_at = meta.get("send_at") if isinstance(meta, dict) else None
        if isinstance(send_at, bool) or not isinstance(send_at, int) or send_at <= 0:
            return None
        return float(send_at)

    def request(self, payloads: list[dict[str, Any]], signed: bool) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payloads, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if signed:
            headers.update(self.signer.headers(body, str(int(time.time()))))
        return body, headers


def register(sandbox: Sandbox) -> None:
    signer: SendGridSigner = sandbox.extensions["sendgrid.signer"]
    providers.register(sandbox, SendGridWebhooks(signer))
