"""Resend's side of the event engine: which webhooks get an event, and the Svix-signed POST.

Made by :func:`adapter` at the provider's first message or event (``install()`` registers it
lazily, see ``emulators.common.lazy_hooks``). An event goes to every
enabled webhook created through ``/webhooks`` that lists its type, and to every
``--resend-webhook-url`` (all email events), one JSON object per POST, signed with the
webhook's secret (``svix.py``). The ``svix-id`` is fixed when the event is queued, so retries
repeat it. Any non-2xx is retried for a day. Suppressions are Resend's own list (scope
``resend``). Resend's test addresses (``delivered@``, ``bounced@``, ``complained@``,
``suppressed@resend.dev``, with an optional ``+label``) behave as Resend documents.
"""

from __future__ import annotations

import json
from typing import Any

from mailsandbox.emulators.resend import event_format, svix
from mailsandbox.events.providers import DAY, BaseProvider, Target
from mailsandbox.events.rules import Rule
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

NAME = "resend"
SCOPE = "resend"
TEST_DOMAIN = "resend.dev"
TEST_OUTCOMES = {
    "delivered": "delivered",
    "bounced": "bounced",
    "complained": "complained",
    "suppressed": "bounced",
}
FLAG_ENDPOINT = "flag"


def test_address_rule(recipient: str) -> Rule | None:
    local, _, domain = recipient.strip().strip("<>").rpartition("@")
    name = local.lower().split("+")[0]
    if domain.lower() != TEST_DOMAIN or name not in TEST_OUTCOMES:
        return None
    return Rule(id=f"builtin:resend:{name}", outcome=TEST_OUTCOMES[name], origin="builtin")


class ResendWebhooks(BaseProvider):
    name = NAME
    batch = False
    retry_window = DAY
    reasons = {
        "bounce": "Suppressed: the address bounced before",
        "spam_report": "Suppressed: the recipient marked an email as spam",
        "unsubscribe": "Suppressed: the recipient unsubscribed",
    }

    def __init__(self, signer: svix.Signer, flag_urls: list[str]) -> None:
        self.signer = signer
        self.flag_urls = flag_urls

    def recipient_rule(self, recipient: str) -> Rule | None:
        return test_address_rule(recipient)

    def suppression_scope(self, message: MessageSummary) -> str:
        return SCOPE

    def ids(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]:
        email_id = event_format.meta(message).get("id")
        return {"resend_email_id": email_id} if email_id else {}

    def scheduled_at(self, message: MessageSummary) -> float | None:
        m = event_format.meta(message)
        when = m.get("scheduled_at")
        return float(when) if isinstance(when, (int, float)) and not m.get("canceled") else None

    def targets(
        self, conn: Connection, event: DeliveryEvent, message: MessageSummary
    ) -> list[Target]:
        kind = event_format.event_type(event)
        if kind is None:
            return []
        found = [Target(url, FLAG_ENDPOINT, True) for url in self.flag_urls]
        found += [
            Target(e.url, e.id, True)
            for e in webhooks.list_endpoints(conn, provider=NAME)
            if e.enabled and e.url and kind in e.events
        ]
        return found

    def payload(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
        record = event_format.resend_event(event, message)
        return None if record is None else {"record": record}

    def addressed(
        self, conn: Connection, payload: dict[str, Any], target: Target
    ) -> dict[str, Any]:
        return {**payload, "svix_id": svix.new_message_id(), "endpoint_id": target.endpoint_id}

    def request(self, payloads: list[dict[str, Any]], signed: bool) -> tuple[bytes, dict[str, str]]:
        payload = payloads[0]
        body = json.dumps(payload["record"], separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Svix-Webhooks/1.0"}
        endpoint = str(payload.get("endpoint_id") or FLAG_ENDPOINT)
        headers.update(self.signer.headers(endpoint, str(payload.get("svix_id")), body))
        return body, headers


def adapter(sandbox: Sandbox) -> ResendWebhooks:
    signer: svix.Signer = sandbox.extensions[svix.EXTENSION]
    return ResendWebhooks(signer, list(sandbox.settings.resend_webhook_url))
