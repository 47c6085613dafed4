"""The same message through SMTP and through ``/v3/mail/send`` is stored with the same fields."""

from __future__ import annotations

import base64
import smtplib

import httpx

from mailsandbox.runner import RunningSandbox
from tests.emulators.parity import ENVELOPE, LISTED, LOGO, PDF, fields, smtp_message
from tests.emulators.sendgrid.helpers import listed

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


def test_smtp_and_api_store_the_same_message(
    running: RunningSandbox, smtp: smtplib.SMTP, http: httpx.Client
) -> None:
    smtp.send_message(smtp_message(), to_addrs=ENVELOPE)
    assert http.post("/v3/mail/send", json=API_BODY).status_code == 202
    via_smtp, via_api = listed(http)
    for key in LISTED:
        assert via_smtp[key] == via_api[key], key
    raws = [http.get(f"/api/v1/message/{m['ID']}/raw").content for m in (via_smtp, via_api)]
    assert fields(raws[0]) == fields(raws[1])
    assert fields(raws[1])["parts"]  # the comparison covered the attachments
