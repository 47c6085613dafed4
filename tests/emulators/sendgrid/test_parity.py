"""The same message through SMTP and through ``/v3/mail/send`` is stored with the same fields."""

from __future__ import annotations

import base64
import smtplib
from email.message import EmailMessage

import httpx

from mailsandbox import mime
from mailsandbox.runner import RunningSandbox
from tests.emulators.sendgrid.helpers import listed

LOGO = bytes(range(200))
PDF = b"%PDF-1.4 binary \x00\x01\x02" * 50


def _smtp_message() -> EmailMessage:
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


API_BODY = {
    "personalizations": [
        {
            "to": [{"email": "bob@example.com", "name": "Bob"}, {"email": "carl@example.com"}],
            "cc": [{"email": "carol@example.com"}],
            "bcc": [{"email": "hidden@example.com"}],
        }
    ],
    "from": {"email": "ann@example.com", "name": "Ann Example"},
    "reply_to": {"email": "replies@example.com"},
    "subject": "Parity check ✓",
    "headers": {"X-Campaign": "parity"},
    "content": [
        {"type": "text/plain", "value": "Plain body ✓"},
        {"type": "text/html", "value": '<p>HTML body <img src="cid:logo"></p>'},
    ],
    "attachments": [
        {
            "content": base64.b64encode(LOGO).decode(),
            "filename": "logo.png",
            "type": "image/png",
            "disposition": "inline",
            "content_id": "logo",
        },
        {
            "content": base64.b64encode(PDF).decode(),
            "filename": "doc.pdf",
            "type": "application/pdf",
            "disposition": "attachment",
        },
    ],
}


def _fields(raw: bytes) -> dict[str, object]:
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


def test_smtp_and_api_store_the_same_message(
    running: RunningSandbox, smtp: smtplib.SMTP, http: httpx.Client
) -> None:
    envelope = ["bob@example.com", "carl@example.com", "carol@example.com", "hidden@example.com"]
    smtp.send_message(_smtp_message(), to_addrs=envelope)
    assert http.post("/v3/mail/send", json=API_BODY).status_code == 202
    via_smtp, via_api = listed(http)
    for key in ("From", "To", "Cc", "Bcc", "ReplyTo", "Subject", "Attachments", "Snippet"):
        assert via_smtp[key] == via_api[key], key
    raws = [http.get(f"/api/v1/message/{m['ID']}/raw").content for m in (via_smtp, via_api)]
    assert _fields(raws[0]) == _fields(raws[1])
    assert _fields(raws[1])["parts"]  # the comparison covered the attachments
