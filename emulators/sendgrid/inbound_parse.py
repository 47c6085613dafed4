"""SendGrid Inbound Parse: which mail goes to which parse setting, and the POST SendGrid makes.

Routing (inside the message's transaction, see ``mailsandbox.inbound.routing``): each envelope
recipient whose domain is a configured ``hostname`` gets one POST to that setting's ``url``.
The POST is ``multipart/form-data``, built from the stored message when it is sent, with the
documented fields (sendgrid/docs "Setting Up The Inbound Parse Webhook": default and raw
parameters, example payloads): ``headers`` (the raw header block), ``dkim``, ``content-ids``,
``to``, ``from``, ``cc``, ``subject``, ``text``, ``html``, ``sender_ip``, ``envelope`` (JSON
``{"to": [recipient], "from": sender}``), ``attachments`` (count), files ``attachment1``...,
``attachment-info`` (JSON), ``charsets`` (JSON), ``SPF``; ``spam_score`` and ``spam_report``
when ``spam_check`` is on; with ``send_raw``, ``email`` (the whole MIME message) replaces the
parsed body fields. Text and HTML are posted as UTF-8 (``charsets`` says so). Nothing is
verified here: ``SPF`` is ``none``, ``dkim`` lists the signing domains as ``pass`` (``none``
when unsigned), ``sender_ip`` is 127.0.0.1.

Retries (twilio.com "Inbound Email Parse Webhook"): a 5xx answer or no answer is retried for 3
days; any other answer ends the delivery. Redirects are not followed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mailsandbox.emulators.sendgrid.parse_api import PROVIDER, parse_settings, setting_json
from mailsandbox.events.dispatcher import Poster
from mailsandbox.events.outbox import AttemptResult, OutboxItem
from mailsandbox.events.providers import DAY
from mailsandbox.inbound import Delivery, InboundMail, RuleMatch, content, forms, spam
from mailsandbox.inbound.delivery import InboundDelivery
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

USER_AGENT = "Sendlib/1.0 mailsandbox"
SENDER_IP = "127.0.0.1"
_DKIM_DOMAIN = re.compile(r"(?:^|;)\s*d=([^;\s]+)")


class ParseRouter:
    name = PROVIDER

    def route(self, conn: Connection, mail: InboundMail) -> list[RuleMatch]:
        settings = {e.scope: e for e in parse_settings(conn) if e.enabled and e.url}
        matches = []
        for recipient in mail.recipients if settings else []:
            setting = settings.get(recipient.rpartition("@")[2].lower())
            if setting is None:
                continue
            options = setting_json(setting)
            action = f"POST {setting.url}" + (" (raw)" if options["send_raw"] else "")
            payload = {"recipient": recipient, **options}
            matches.append(
                RuleMatch(
                    setting.id,
                    options["hostname"],
                    recipient,
                    actions=[action],
                    deliveries=[Delivery(setting.url, payload)],
                )
            )
        return matches


def _dkim(parts: content.InboundContent) -> str:
    domains = [
        found.group(1)
        for key, value in parts.headers
        if key.lower() == "dkim-signature" and (found := _DKIM_DOMAIN.search(value))
    ]
    return ", ".join(f"{{@{d} : pass}}" for d in domains) or "none"


def parse_form(message: MessageSummary, raw: bytes, options: dict[str, Any]) -> tuple[bytes, str]:
    """The multipart body SendGrid posts for ``message`` to one recipient, and its type."""
    parts = content.read(raw)
    addressed = [("to", parts.header("To")), ("from", parts.header("From"))]
    if parts.header("Cc"):
        addressed.append(("cc", parts.header("Cc")))
    charsets = {name: "UTF-8" for name, _ in [*addressed, ("subject", "")]}
    fields: list[forms.Field] = [("dkim", _dkim(parts))]
    files: list[forms.Upload] = []
    if options.get("send_raw"):
        fields += [("email", raw), *addressed, ("subject", parts.header("Subject"))]
    else:
        info: dict[str, dict[str, str]] = {}
        content_ids: dict[str, str] = {}
        for number, part in enumerate(parts.files, 1):
            key = f"attachment{number}"
            filename = part.filename or key
            info[key] = {"filename": filename, "name": filename, "type": part.content_type}
            if part.content_id:
                info[key]["content-id"] = part.content_id
                content_ids[part.content_id] = key
            files.append(forms.Upload(key, filename, part.content_type, part.data))
        fields.insert(0, ("headers", parts.header_block + "\n"))
        if content_ids:
            fields.append(("content-ids", json.dumps(content_ids)))
        fields += addressed
        bodies = [("text", parts.text if parts.has_text else ""), ("html", parts.html)]
        fields += [(name, value) for name, value in bodies if value]
        charsets.update({name: "UTF-8" for name, value in bodies if value})
        fields += [("subject", parts.header("Subject")), ("attachments", str(len(files)))]
        if info:
            fields.append(("attachment-info", json.dumps(info)))
    envelope = {"to": [options["recipient"]], "from": message.mail_from}
    fields += [("sender_ip", SENDER_IP), ("envelope", json.dumps(envelope))]
    if options.get("spam_check"):
        points = spam.score(parts.text, parts.html)
        fields += [("spam_score", f"{points:.3f}"), ("spam_report", spam.report(points))]
    fields += [("charsets", json.dumps(charsets)), ("SPF", "none")]
    return forms.multipart(fields, files)


class ParseDelivery(InboundDelivery):
    """Sends the parse POSTs (a 5xx or no answer is retried for 3 days; else it ends)."""

    name = PROVIDER
    retry_window = 3 * DAY

    def stop_on(self, status: int) -> bool:
        return status != 0 and not 500 <= status < 600

    async def send(
        self, item: OutboxItem, message: MessageSummary, raw: bytes, post: Poster
    ) -> AttemptResult:
        body, content_type = parse_form(message, raw, item.payload)
        return await post(item.url, body, {"Content-Type": content_type, "User-Agent": USER_AGENT})


def router() -> ParseRouter:
    return ParseRouter()


def delivery(sandbox: Sandbox) -> ParseDelivery:
    return ParseDelivery(sandbox)
