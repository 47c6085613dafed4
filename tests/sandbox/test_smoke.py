"""The whole path, end to end: SMTP in, SQLite, REST API out."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import httpx


def test_smtp_message_is_listed_and_raw_is_kept(smtp: smtplib.SMTP, api: httpx.Client) -> None:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.com>"
    msg["To"] = "bob@example.com"
    msg["Subject"] = "Hello there"
    msg.set_content("Hi Bob, this is the body.")
    smtp.send_message(msg, to_addrs=["bob@example.com", "hidden@example.com"])

    listing = api.get("/api/v1/messages").json()
    assert listing["total"] == 1
    summary = listing["messages"][0]
    assert summary["Subject"] == "Hello there"
    assert summary["From"] == {"Name": "Ann", "Address": "ann@example.com"}
    assert summary["To"] == [{"Name": "", "Address": "bob@example.com"}]
    assert summary["Bcc"] == [{"Name": "", "Address": "hidden@example.com"}]
    assert summary["Snippet"] == "Hi Bob, this is the body."

    raw = api.get(f"/api/v1/message/{summary['ID']}/raw").content
    assert raw.endswith(msg.as_bytes().replace(b"\n", b"\r\n"))


def test_health_probes(api: httpx.Client) -> None:
    assert api.get("/livez").status_code == 200
    assert api.get("/readyz").status_code == 200
