"""Postmark's side of the event engine: which webhooks get an event, and the POST.

Made by :func:`adapter` at the provider's first message or event (``install()`` registers it
lazily, see ``emulators.common.lazy_hooks``). An event goes to every
webhook of the message's stream whose trigger for it is enabled (``Delivery``, ``Bounce``,
``SpamComplaint``, ``Open``, ``Click``, ``SubscriptionChange``), one JSON object per POST,
with the webhook's ``HttpHeaders`` and its ``HttpAuth`` as Basic auth (kept in the URL's
userinfo, which the dispatcher turns into the header). Postmark does not sign webhooks. A 403
answer stops the retries (Postmark documents it); anything else non-2xx is retried for about
ten hours.

Suppressions are per stream; only deactivating bounce types (a hard bounce, not a soft one or
a transient delay) and spam complaints put an address on the list. The bounce-testing domain
(``<Type>@bounce-testing.postmarkapp.com``) bounces with the type its local part names, hard
by default, as Postmark's black hole domain does.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mailsandbox.emulators.postmark import event_format
from mailsandbox.emulators.postmark.sending import DEFAULT_STREAM
from mailsandbox.events.providers import BaseProvider, Target
from mailsandbox.events.rules import Rule
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection
from mailsandbox.storage.suppressions import Suppression

NAME = "postmark"
BOUNCE_TESTING = "bounce-testing.postmarkapp.com"
RETRY_WINDOW = 10.5 * 3600
_BY_KEY = {re.sub(r"[^a-z]", "", name.lower()): name for name in event_format.BOUNCE_TYPES}


def test_address_rule(recipient: str) -> Rule | None:
    """The outcome of an address of Postmark's bounce-testing domain (case-insensitive,
    ``Hard_Bounce@`` works as ``hardbounce@``); None for any other address."""
    local, _, domain = recipient.strip().strip("<>").rpartition("@")
    if domain.lower() != BOUNCE_TESTING:
        return None
    kind = _BY_KEY.get(re.sub(r"[^a-z]", "", local.lower()), "HardBounce")
    outcome = "complained" if kind == "SpamComplaint" else "bounced"
    rule_id = f"{event_format.RULE_PREFIX}{kind}"
    return Rule(id=rule_id, outcome=outcome, reason=f"smtp;550 Test bounce ({kind})",
                origin="builtin")  # fmt: skip


class PostmarkWebhooks(BaseProvider):
    name = NAME
    batch = False
    retry_window = RETRY_WINDOW
    reasons = {
        "bounce": "Inactive recipient (hard bounce)",
        "spam_report": "Inactive recipient (spam complaint)",
        "unsubscribe": "Inactive recipient (manual suppression)",
    }

    def recipient_rule(self, recipient: str) -> Rule | None:
        return test_address_rule(recipient)

    def suppression_for(self, event: DeliveryEvent, message: MessageSummary) -> Suppression | None:
        """Only the bounces Postmark deactivates a recipient for add an entry."""
        if event.type == "bounced" and event_format.bounce_type(event) not in (
            event_format.DEACTIVATING
        ):
            return None
        return super().suppression_for(event, message)

    def suppression_scope(self, message: MessageSummary) -> str:
        return str(event_format.meta(message).get("stream") or DEFAULT_STREAM)

    def ids(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]:
        message_id = event_format.meta(message).get("message_id")
        return {"postmark_message_id": message_id} if message_id else {}

    def targets(
        self, conn: Connection, event: DeliveryEvent, message: MessageSummary
    ) -> list[Target]:
        trigger = event_format.TRIGGERS.get(event.type)
        if trigger is None:
            return []
        stream = self.suppression_scope(message)
        return [
            Target(e.url, e.id, False)
            for e in webhooks.list_endpoints(conn, provider=NAME, scope=stream)
            if e.enabled and e.url and trigger in e.events
        ]

    def payload(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
        record = event_format.postmark_event(event, message)
        return None if record is None else {"record": record}

    def addressed(
        self, conn: Connection, payload: dict[str, Any], target: Target
    ) -> dict[str, Any]:
        endpoint = webhooks.get(conn, target.endpoint_id)
        headers = endpoint.details.get("HttpHeaders") if endpoint else None
        return {**payload, "headers": headers or []}

    def request(self, payloads: list[dict[str, Any]], signed: bool) -> tuple[bytes, dict[str, str]]:
        payload = payloads[0]
        headers = {"Content-Type": "application/json", "User-Agent": "Postmark"}
        for item in payload.get("headers") or []:
            if isinstance(item, dict) and item.get("Name"):
                headers[str(item["Name"])] = str(item.get("Value", ""))
        return json.dumps(payload["record"]).encode(), headers

    def stop_on(self, status: int) -> bool:
        return status == 403


def adapter(sandbox: Sandbox) -> PostmarkWebhooks:
    return PostmarkWebhooks()
