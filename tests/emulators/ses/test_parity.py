"""The same message sent over SMTP, through SES v2 ``Simple`` content, and as a raw message
through v2 ``SendEmail`` and v1 ``SendRawEmail`` is stored with the same fields."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import httpx

from mailsandbox import mime
from tests.emulators.ses.conftest import stored

LOGO = bytes(range(200))
PDF = b"%PDF-1.4 binary \x00\x01\x02" * 50
ENVELOPE = ["bob@example.com", "carl@example.com", "carol@example.com", "hidden@example.com"]


def _message() -> EmailMessage:
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


SIMPLE = {
    "FromEmailAddress": "Ann Example <ann@example.com>",
    "Destination": {
        "ToAddresses": ["Bob <bob@example.com>", "carl@example.com"],
        "CcAddresses": ["carol@example.com"],
        "BccAddresses": ["hidden@example.com"],
    },
    "ReplyToAddresses": ["replies@example.com"],
    "Content": {
        "Simple": {
            "Subject": {"Data": "Parity check ✓"},
            "Body": {
                "Text": {"Data": "Plain body ✓"},
                "Html": {"Data": '<p>HTML body <img src="cid:logo"></p>'},
            },
            "Headers": [{"Name": "X-Campaign", "Value": "parity"}],
            "Attachments": [
                {
                    "FileName": "logo.png",
                    "RawContent": LOGO,
                    "ContentType": "image/png",
                    "ContentDisposition": "INLINE",
                    "ContentId": "logo",
                },
                {"FileName": "doc.pdf", "RawContent": PDF, "ContentType": "application/pdf"},
            ],
        }
    },
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


def test_smtp_and_ses_store_the_same_message(
    smtp: smtplib.SMTP, api: httpx.Client, sesv2: Any, ses: Any
) -> None:
    smtp.send_message(_message(), to_addrs=ENVELOPE)
    sesv2.send_email(**SIMPLE)
    raw = _message().as_bytes()
    sesv2.send_email(Destination={"ToAddresses": ENVELOPE}, Content={"Raw": {"Data": raw}})
    ses.send_raw_email(Destinations=ENVELOPE, RawMessage={"Data": raw})
    via_smtp, *via_ses = stored(api)
    assert len(via_ses) == 3
    reference = _fields(api.get(f"/api/v1/message/{via_smtp['ID']}/raw").content)
    assert reference["parts"]  # the comparison covers the attachments
    for message in via_ses:
        for key in ("From", "To", "Cc", "Bcc", "ReplyTo", "Subject", "Attachments", "Snippet"):
            assert via_smtp[key] == message[key], (key, message["ID"])
        assert _fields(api.get(f"/api/v1/message/{message['ID']}/raw").content) == reference
