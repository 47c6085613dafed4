"""Mailgun Routes at work: which routes fire for inbound mail, and what their actions do.

Routing (inside the message's transaction, see ``mailsandbox.inbound.routing``): for each
envelope recipient, the routes in priority order (:func:`.route_rules.evaluate`). Each action of
a route that fires becomes an outbox row, delivered when the dispatcher gets to it:

- ``forward("http...")``: a signed POST of the parsed message, or of ``body-mime`` when the URL
  asks for raw MIME (Mailgun's docs say "ends with mime"; django-anymail, tested against
  Mailgun, says "contains mime anywhere" and serves ``.../inbound_mime/``: the URL containing
  ``mime`` is what counts here), see :mod:`.inbound_fields`;
- ``forward("someone@example.com")``: the message is ingested again, for that address, with the
  hop header (so no route sees it again) and source ``mailgun`` (Mailgun sends it on: the
  domain's delivery events and webhooks follow); the row's log says which message it became;
- ``store(notify="http...")``: a signed POST of the stored-message fields with its
  ``message-url`` (served by :mod:`.stored_messages` under the recipient's domain); ``store()``
  alone only makes the message readable there.

Answers (mailgun/documentation "Receiving Messages via HTTP"): 2xx is done, 406 ends the
delivery, anything else (or no answer) is retried for 8 hours.
"""

from __future__ import annotations

import re
import time
from typing import Any

from mailsandbox.emulators.mailgun import inbound_fields as fields
from mailsandbox.emulators.mailgun.route_rules import Action, evaluate
from mailsandbox.emulators.mailgun.routes_api import PROVIDER, compiled, routes_in_order
from mailsandbox.emulators.mailgun.signing import MailgunSigner
from mailsandbox.events.dispatcher import Poster
from mailsandbox.events.outbox import LOCAL_OK, AttemptResult, OutboxItem
from mailsandbox.inbound import HOP_HEADER, Delivery, InboundMail, RuleMatch, forms
from mailsandbox.inbound.delivery import InboundDelivery
from mailsandbox.ingest import Inbound
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

USER_AGENT = "mailgun/treq mailsandbox"
HTTP = ("http://", "https://")


def stored_url(base: str, domain: str, message_id: str) -> str:
    return f"{base}/v3/domains/{domain}/messages/{message_id}"


def _deliveries(
    action: Action, captures: list[re.Match[str]], recipient: str, base: str
) -> list[Delivery]:
    """The outbox rows of one action for one recipient (none for ``stop()``)."""
    domain = recipient.rpartition("@")[2].lower()
    out = []
    for destination in action.expand(captures):
        payload: dict[str, Any] = {"recipient": recipient, "domain": domain}
        if action.kind == "store":
            out.append(Delivery(destination, {**payload, "action": "store", "base": base}, True))
        elif destination.startswith(HTTP):
            mime = "mime" in destination  # raw MIME wanted (see the module docstring)
            out.append(Delivery(destination, {**payload, "action": "forward", "mime": mime}, True))
        else:
            payload.update(action="forward-address", address=destination)
            out.append(Delivery(f"mailto:{destination}", payload))
    return out


class RouteRouter:
    name = PROVIDER

    def route(self, conn: Connection, mail: InboundMail) -> list[RuleMatch]:
        endpoints = routes_in_order(conn)
        if not endpoints:
            return []
        saved = {e.id: e for e in endpoints}
        routes = [compiled(e) for e in endpoints]
        matches = []
        for recipient in mail.recipients:
            for route, captures in evaluate(routes, recipient, mail.header_values):
                details = saved[route.id].details
                base = str(details.get("base_url", ""))
                match = RuleMatch(
                    route.id,
                    str(details.get("expression", "")),
                    recipient,
                    actions=[str(a) for a in details.get("actions", [])],
                )
                for action in route.actions:
                    match.deliveries += _deliveries(action, captures, recipient, base)
                    if action.kind == "store":
                        match.extra["stored"] = recipient.rpartition("@")[2].lower()
                matches.append(match)
        return matches


class RouteDelivery(InboundDelivery):
    """Carries out route actions (406 ends a POST's delivery; other failures retry for 8 h)."""

    name = PROVIDER
    retry_window = 8 * 3600.0

    def __init__(self, sandbox: Sandbox, signer: MailgunSigner) -> None:
        super().__init__(sandbox)
        self.signer = signer

    def stop_on(self, status: int) -> bool:
        return status == 406

    async def send(
        self, item: OutboxItem, message: MessageSummary, raw: bytes, post: Poster
    ) -> AttemptResult:
        payload = item.payload
        if payload.get("action") == "forward-address":
            return await self._forward_to_address(item, message, raw)
        received = fields.received(message, raw, str(payload.get("recipient", "")))
        files: list[forms.Upload] = []
        if payload.get("action") == "store":
            url = stored_url(str(payload.get("base", "")), str(payload["domain"]), message.id)
            form = fields.store_form(received, message, str(payload["domain"]), url)
        elif payload.get("mime"):
            form = fields.mime_form(received, raw)
        else:
            form, files = fields.parsed_form(received)
        form += list(self.signer.signature_block().items())
        body, content_type = forms.multipart(form, files) if files else forms.urlencoded(form)
        return await post(item.url, body, {"Content-Type": content_type, "User-Agent": USER_AGENT})

    async def _forward_to_address(
        self, item: OutboxItem, message: MessageSummary, raw: bytes
    ) -> AttemptResult:
        started = time.perf_counter()
        hop = f"{HOP_HEADER}: mailgun route {item.endpoint_id}; message {message.id}\r\n"
        domain = str(item.payload.get("domain", ""))
        forwarded = await self.sandbox.mailbox.ingest(
            Inbound(
                hop.encode() + raw,
                mail_from=message.mail_from,
                rcpt_tos=[str(item.payload["address"])],
                source="mailgun",
                inbox=message.inbox,
                metadata={"mailgun": {"domain": domain}},
            )
        )
        elapsed = (time.perf_counter() - started) * 1000
        return AttemptResult(LOCAL_OK, elapsed, f"stored as message {forwarded.id}")


def router() -> RouteRouter:
    return RouteRouter()


def delivery(sandbox: Sandbox) -> RouteDelivery:
    signer: MailgunSigner = sandbox.extensions["mailgun.signer"]
    return RouteDelivery(sandbox, signer)
