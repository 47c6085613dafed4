"""The same message sent over SMTP and through Resend's ``/emails`` is stored with the same
fields: addresses, subject, bodies, every part with its checksum."""

from __future__ import annotations

import base64
import smtplib

import httpx

from tests.emulators.parity import ENVELOPE, LOGO, PDF, assert_stored_alike, smtp_message
from tests.emulators.stored import listed

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
    via_smtp, via_api = listed(api)
    assert_stored_alike(api, via_smtp, [via_api])
