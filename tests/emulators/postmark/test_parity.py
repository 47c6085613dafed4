"""The same message sent over SMTP and through Postmark's ``/email`` is stored with the same
fields: addresses, subject, bodies, every part with its checksum."""

from __future__ import annotations

import base64
import smtplib

import httpx

from tests.emulators.parity import ENVELOPE, LISTED, LOGO, PDF, fields, smtp_message


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
    via_smtp, via_postmark = reversed(api.get("/api/v1/messages").json()["messages"])
    for key in LISTED:
        assert via_smtp[key] == via_postmark[key], key
    reference = fields(api.get(f"/api/v1/message/{via_smtp['ID']}/raw").content)
    assert reference["parts"]  # the comparison covers the attachments
    assert fields(api.get(f"/api/v1/message/{via_postmark['ID']}/raw").content) == reference
