"""The same message sent over SMTP and through Postmark's ``/email`` is stored with the same
fields: addresses, subject, bodies, every part with its checksum."""

from __future__ import annotations

import base64
import smtplib

import httpx

from tests.emulators.parity import ENVELOPE, LOGO, PDF, assert_stored_alike, smtp_message
from tests.emulators.stored import listed


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


POSTMARK = {
    "From": "Ann Example <ann@example.com>",
    "To": "Bob <bob@example.com>, carl@example.com",
    "Cc": "carol@example.com",
    "Bcc": "hidden@example.com",
    "ReplyTo": "replies@example.com",
    "Subject": "Parity check ✓",
    "TextBody": "Plain body ✓",
    "HtmlBody": '<p>HTML body <img src="cid:logo"></p>',
    "Headers": [{"Name": "X-Campaign", "Value": "parity"}],
    "Attachments": [
        {"Name": "logo.png", "Content": b64(LOGO), "ContentType": "image/png",
         "ContentID": "cid:logo"},
        {"Name": "doc.pdf", "Content": b64(PDF), "ContentType": "application/pdf"},
    ],
}  # fmt: skip


def test_smtp_and_postmark_store_the_same_message(
    smtp: smtplib.SMTP, api: httpx.Client, pm: httpx.Client
) -> None:
    smtp.send_message(smtp_message(), to_addrs=ENVELOPE)
    assert pm.post("/email", json=POSTMARK).json()["ErrorCode"] == 0
    via_smtp, via_api = listed(api)
    assert_stored_alike(api, via_smtp, [via_api])
