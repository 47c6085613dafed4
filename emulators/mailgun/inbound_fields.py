"""The fields Mailgun gives an app for received mail (mailgun/documentation ``user_manual.rst``,
"Receiving Messages via HTTP through a forward() action" and "Storing and Retrieving Messages"):

- a ``forward(url)`` POST, fully parsed: ``recipient``, ``sender``, ``from``, ``subject``,
  ``body-plain``, ``stripped-text``, ``stripped-signature``, ``body-html``, ``stripped-html``,
  ``attachment-count`` and files ``attachment-1``..., ``content-id-map`` (``{"<cid>":
  "attachment-N"}``), ``message-headers`` (JSON ``[[name, value], ...]``) and, as Mailgun does,
  every MIME header as a field of its own; or, when the URL ends in ``mime``, ``body-mime``;
- a ``store(notify=url)`` POST and the stored-messages API: the parsed fields with
  ``attachments`` (a JSON list of ``{size, url, name, content-type}``) instead of files, plus
  ``domain`` and (in the POST) ``message-url``.

Mailgun adds ``X-Mailgun-Incoming: Yes``, ``X-Envelope-From`` and its spam verdict
(``X-Mailgun-Sflag``, ``X-Mailgun-Sscore``) to the headers of received mail; so does this.
The signature fields go last: a receiver that sees a header named like one reads the last value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mailsandbox.inbound import content, forms, spam
from mailsandbox.inbound.content import InboundContent
from mailsandbox.storage.messages import MessageSummary


@dataclass
class Received:
    """A stored message as Mailgun describes it to one recipient's route."""

    recipient: str
    sender: str
    headers: list[tuple[str, str]]  # the message's, then what Mailgun adds
    parts: InboundContent

    def header(self, name: str) -> str:
        return self.parts.header(name)


def received(
    message: MessageSummary, raw: bytes, recipient: str, *, incoming: bool = True
) -> Received:
    """``message`` as Mailgun describes it; ``incoming``: received mail, which gets the headers
    Mailgun adds on receipt (a message sent through a domain, stored too, does not)."""
    parts = content.read(raw)
    added = []
    if incoming:
        points = spam.score(parts.text, parts.html)
        added = [
            ("X-Mailgun-Incoming", "Yes"),
            ("X-Envelope-From", f"<{message.mail_from}>"),
            ("X-Mailgun-Sflag", "Yes" if points >= spam.THRESHOLD else "No"),
            ("X-Mailgun-Sscore", f"{points:.1f}"),
        ]
    return Received(recipient, message.mail_from, [*parts.headers, *added], parts)


def added_headers(item: Received) -> bytes:
    """What Mailgun puts in front of the MIME it posts as ``body-mime``."""
    extra = item.headers[len(item.parts.headers) :]
    return "".join(f"{name}: {value}\r\n" for name, value in extra).encode()


def _common(item: Received) -> list[forms.Field]:
    return [
        *item.headers,
        ("recipient", item.recipient),
        ("sender", item.sender),
        ("from", item.header("From")),
        ("subject", item.header("Subject")),
    ]


def _bodies(item: Received) -> list[forms.Field]:
    stripped, signature = content.split_reply(item.parts.text)
    fields: list[forms.Field] = [
        ("body-plain", item.parts.text),
        ("stripped-text", stripped),
        ("stripped-signature", signature),
    ]
    if item.parts.html:
        fields += [
            ("body-html", item.parts.html),
            ("stripped-html", content.strip_html_quote(item.parts.html)),
        ]
    return fields


def parsed_form(item: Received) -> tuple[list[forms.Field], list[forms.Upload]]:
    """The fields and files of a fully-parsed ``forward(url)`` POST (signature not included)."""
    files = [
        forms.Upload(
            f"attachment-{n}", part.filename or f"attachment-{n}", part.content_type, part.data
        )
        for n, part in enumerate(item.parts.files, 1)
    ]
    cid_map = {
        f"<{part.content_id}>": f"attachment-{n}"
        for n, part in enumerate(item.parts.files, 1)
        if part.content_id
    }
    fields = [*_common(item), *_bodies(item)]
    if files:
        fields.append(("attachment-count", str(len(files))))
    fields += [
        ("content-id-map", json.dumps(cid_map)),
        ("message-headers", json.dumps([list(h) for h in item.headers])),
    ]
    return fields, files


def mime_form(item: Received, raw: bytes) -> list[forms.Field]:
    """The fields of a raw-MIME ``forward(url)`` POST (a URL ending in ``mime``)."""
    return [*_common(item), ("body-mime", added_headers(item) + raw)]


def stored_json(
    item: Received, message: MessageSummary, domain: str, message_url: str
) -> dict[str, Any]:
    """The stored message as the stored-messages API returns it (``message_url`` is where)."""
    attachments = [
        {
            "size": len(part.data),
            "url": f"{message_url}/attachments/{n}",
            "name": part.filename,
            "content-type": part.content_type,
        }
        for n, part in enumerate(item.parts.files)
    ]
    cid_map = {
        f"<{part.content_id}>": attachments[n]
        for n, part in enumerate(item.parts.files)
        if part.content_id
    }
    return {
        "domain": domain,
        "recipients": ", ".join(message.recipients),
        "sender": item.sender,
        "from": item.header("From"),
        "subject": item.header("Subject"),
        **dict(_bodies(item)),
        "attachments": attachments,
        "message-headers": [list(h) for h in item.headers],
        "content-id-map": cid_map,
    }


def store_form(item: Received, message: MessageSummary, domain: str, url: str) -> list[forms.Field]:
    """The fields of a ``store(notify=url)`` POST (signature not included)."""
    stored = stored_json(item, message, domain, url)
    stored.pop("recipients")
    as_text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in stored.items()}
    return [*item.headers, ("recipient", item.recipient), *as_text.items(), ("message-url", url)]
