"""The same message sent over SMTP, through SES v2 ``Simple`` content, and as a raw message
through v2 ``SendEmail`` and v1 ``SendRawEmail`` is stored with the same fields."""

from __future__ import annotations

import smtplib
from typing import Any

import httpx

from tests.emulators.parity import ENVELOPE, LOGO, PDF, assert_stored_alike, smtp_message
from tests.emulators.stored import listed

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


def test_smtp_and_ses_store_the_same_message(
    smtp: smtplib.SMTP, api: httpx.Client, sesv2: Any, ses: Any
) -> None:
    smtp.send_message(smtp_message(), to_addrs=ENVELOPE)
    sesv2.send_email(**SIMPLE)
    raw = smtp_message().as_bytes()
    sesv2.send_email(Destination={"ToAddresses": ENVELOPE}, Content={"Raw": {"Data": raw}})
    ses.send_raw_email(Destinations=ENVELOPE, RawMessage={"Data": raw})
    via_smtp, *via_ses = listed(api)
    assert len(via_ses) == 3
    assert_stored_alike(api, via_smtp, via_ses)
