"""Mailgun's side of the event engine: which domain webhooks get an event, and the signed POST.

Made by :func:`adapter` at the provider's first message or event (``install()`` registers it
lazily, see ``emulators.common.lazy_hooks``). An event goes to every URL of the
sending domain's webhook named for it (``delivered``, ``permanent_fail``...) and of the account
webhooks that list that name, each URL once, one JSON object per POST with a fresh HMAC
``signature`` block (unique token). 406 means stop; anything else
non-2xx is retried for 8 h. Suppressions are per domain (bounces, unsubscribes, complaints;
whitelisted addresses are never dropped).
"""

from __future__ import annotations

import json
from typing import Any

from mailsandbox.emulators.common.events import provider_meta
from mailsandbox.emulators.mailgun.event_format import MAILGUN_WEBHOOK_NAME, mailgun_event
from mailsandbox.emulators.mailgun.sending import delivery_epoch
from mailsandbox.emulators.mailgun.signing import MailgunSigner
from mailsandbox.events.providers import BaseProvider, Target
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection


def _domain(message: MessageSummary) -> str:
    return str(provider_meta(message, "mailgun").get("domain", ""))


class MailgunWebhooks(BaseProvider):
    name = "mailgun"
    batch = False
    retry_window = 8 * 3600.0
    kinds = {"bounced": "bounce", "complained": "complaint", "unsubscribed": "unsubscribe"}
    reasons = {
        "bounce": "Not delivering to previously bounced address",
        "unsubscribe": "Not delivering to unsubscribed address",
        "complaint": "Not delivering to a user who marked your messages as spam",
    }

    def __init__(self, signer: MailgunSigner) -> None:
        self.signer = signer

    def targets(
        self, conn: Connection, event: DeliveryEvent, message: MessageSummary
    ) -> list[Target]:
        """The sending domain's webhook for the event, then the account's webhooks that have
        its type; each URL once."""
        wanted = MAILGUN_WEBHOOK_NAME(event)
        out: dict[str, Target] = {}
        for scope in (_domain(message), ""):  # "": account-level (/v1/webhooks)
            for endpoint in webhooks.list_endpoints(conn, provider=self.name, scope=scope):
                if endpoint.enabled and wanted in endpoint.events:
                    urls = endpoint.details.get("urls") or [endpoint.url]
                    for url in urls:
                        if url and url not in out:
                            out[str(url)] = Target(str(url), endpoint.id, True)
        return list(out.values())

    def payload(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
        data = mailgun_event(event, message)
        return None if data is None else {"event-data": data}

    def ids(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]:
        return {"event-id": event.id, "message-id": message.message_id.strip("<>")}

    def request(self, payloads: list[dict[str, Any]], signed: bool) -> tuple[bytes, dict[str, str]]:
        body = {"signature": self.signer.signature_block(), **payloads[0]}
        return json.dumps(body).encode(), {"Content-Type": "application/json"}

    def stop_on(self, status: int) -> bool:
        return status == 406

    def suppression_scope(self, message: MessageSummary) -> str:
        return _domain(message)

    def scheduled_at(self, message: MessageSummary) -> float | None:
        options = provider_meta(message, "mailgun")
        when = options.get("scheduled_for")
        if isinstance(when, (int, float)) and not isinstance(when, bool):
            return float(when)
        try:  # stored before scheduled_for was: the o:deliverytime text (validated at send)
            return delivery_epoch(str(options.get("deliverytime") or ""))
        except ValueError:
            return None

    def drop_reason(self, kinds: list[str]) -> tuple[str, dict[str, Any]] | None:
        found = super().drop_reason(kinds)
        return None if found is None else (found[0], {"suppressed": found[1]["suppression"]})


def adapter(sandbox: Sandbox) -> MailgunWebhooks:
    signer: MailgunSigner = sandbox.extensions["mailgun.signer"]
    return MailgunWebhooks(signer)
