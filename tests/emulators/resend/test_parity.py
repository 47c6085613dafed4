"""The same message sent over SMTP and through Resend's ``/emails`` is stored with the same
fields: addresses, subject, bodies, every part with its checksum."""

from __future__ import annotations

import base64
import smtplib

import httpx

from tests.emulators.parity import ENVELOPE, LISTED, LOGO, PDF, fields, smtp_message

RESEND = {
    "from": "Ann Example <ann@example.com>",
    "to": ["Bob <bob@example.com>", "carl@example.com"],
    "cc": ["carol@example.com"],
    "bcc": ["hidden@example.com"],
    "reply_to": "replies@example.com",
    "subject": "Parity check ✓",
    "text": "Plain body ✓",
    "html": '<p>HTML body <img src="cid:logo"></p>',
    "headers": {"X-Campaign": "parity"},
    "attachments": [
        {"filename": "logo.png", "content": base64.b64encode(LOGO).decode(),
         "content_type": "image/png", "content_id": "logo"},
        {"filename": "doc.pdf", "content": list(PDF), "content_type": "application/pdf"},
    ],
}  # fmt: skip


def test_smtp_and_resend_store_the_same_message(
    smtp: smtplib.SMTP, api: httpx.Client, rs: httpx.Client
) -> None:
    smtp.send_message(smtp_message(), to_addrs=ENVELOPE)
    assert rs.post("/emails", json=RESEND).status_code == 200
    via_smtp, via_resend = reversed(api.get("/api/v1/messages").json()["messages"])
    for key in LISTED:
        assert via_smtp[key] == via_resend[key], key
    reference = fields(api.get(f"/api/v1/message/{via_smtp['ID']}/raw").content)
    assert reference["parts"]  # the comparison covers the attachments
    assert fields(api.get(f"/api/v1/message/{via_resend['ID']}/raw").content) == reference
