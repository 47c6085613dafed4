"""The message the parity tests send both over SMTP and through an ESP API, the fields of a
stored message they compare (headers, bodies, every part with its checksum), and the check."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import httpx

from mailsandbox import mime

LOGO = bytes(range(200))
PDF = b"%PDF-1.4 binary \x00\x01\x02" * 50
ENVELOPE = ["bob@example.com", "carl@example.com", "carol@example.com", "hidden@example.com"]


def smtp_message() -> EmailMessage:
    """Text and HTML, an inline image, an attachment, a custom header, non-ASCII."""
    msg = EmailMessage()
    msg["From"] = "Ann Example <ann@example.com>"
    msg["To"] = "Bob <bob@example.com>, carl@example.com"
    msg["Cc"] = "carol@example.com"
    msg["Reply-To"] = "replies@example.com"
    msg["Subject"] = "Parity check ✓"
    msg["X-Campaign"] = "parity"
    msg.set_content("Plain body ✓")
    msg.add_alternative('<p>HTML body <img src="cid:logo"></p>', subtype="html")
    html = msg.get_body(("html",))
    assert html is not None
    html.add_related(LOGO, "image", "png", cid="<logo>", filename="logo.png", disposition="inline")
    msg.add_attachment(PDF, "application", "pdf", filename="doc.pdf")
    return msg


def fields(raw: bytes) -> dict[str, object]:
    parsed = mime.parse_message(raw)
    return {
        "from": parsed.from_,
        "to": parsed.to,
        "cc": parsed.cc,
        "reply_to": parsed.reply_to,
        "subject": parsed.subject,
        "text": parsed.text.strip(),
        "html": parsed.html.strip(),
        "snippet": parsed.snippet,
        "parts": [
            (p.filename, p.content_type, p.content_id, p.disposition, p.size, p.sha256)
            for p in parsed.parts
        ],
    }


# what the parity tests compare in the REST API's listing of each copy
LISTED = ("From", "To", "Cc", "Bcc", "ReplyTo", "Subject", "Attachments", "Snippet")


def assert_stored_alike(api: httpx.Client, via_smtp: dict[str, Any], others: list[Any]) -> None:
    """Each of ``others`` (messages as the REST API lists them) is stored like ``via_smtp``:
    the same listed fields, the same parsed fields and parts."""
    reference = fields(api.get(f"/api/v1/message/{via_smtp['ID']}/raw").content)
    assert reference["parts"]  # the comparison covers the attachments
    for message in others:
        for key in LISTED:
            assert via_smtp[key] == message[key], (key, message["ID"])
        assert fields(api.get(f"/api/v1/message/{message['ID']}/raw").content) == reference
