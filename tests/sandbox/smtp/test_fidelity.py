"""What was sent is what is kept: attachment bytes, the raw source, dot-stuffed lines."""

from __future__ import annotations

import hashlib
import os
import smtplib
from email.message import EmailMessage

import httpx

from mailsandbox import mime
from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from tests.sandbox.smtp.helpers import deliver, stored

ADDED_HEADERS = (b"Return-Path:", b"Message-ID:", b"Bcc:")


def _message_with_attachments() -> tuple[EmailMessage, bytes, bytes]:
    blob = os.urandom(150_000) + b"\r\n.\r\n\x00" + os.urandom(1000)  # binary, with an SMTP end
    image = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.com>"
    msg["To"] = "bob@example.com"
    msg["Subject"] = "Files"
    msg.set_content("See attached.\n.leading dot\n..two dots\n.\n")
    msg.add_alternative('<p>Logo: <img src="cid:logo@x"></p>', subtype="html")
    alternatives = msg.get_payload()
    assert isinstance(alternatives, list)
    html = alternatives[1]
    assert isinstance(html, EmailMessage)
    html.add_related(image, "image", "png", cid="<logo@x>")
    msg.add_attachment(blob, maintype="application", subtype="octet-stream", filename="data.bin")
    return msg, blob, image


def test_attachments_and_raw_source_are_kept_byte_for_byte(
    running: RunningSandbox, api: httpx.Client
) -> None:
    msg, blob, image = _message_with_attachments()
    sent = msg.as_bytes().replace(b"\n", b"\r\n")
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        message_id = deliver(client, sent, ["bob@example.com", "hidden@example.com"])

    raw = api.get(f"/api/v1/message/{message_id}/raw").content
    assert raw.endswith(sent)
    added = raw[: len(raw) - len(sent)].split(b"\r\n")[:-1]
    assert added and all(line.startswith(ADDED_HEADERS) for line in added)

    parsed = mime.load(raw)
    payloads = {
        mime.decode_payload(part)
        for _, part in mime.walk_parts(parsed)
        if not part.is_multipart() and part.get_content_maintype() != "text"
    }
    assert payloads == {blob, image}
    summary = stored(running, message_id)
    parts = running.sandbox.db.read_sync(lambda conn: messages.get_parts(conn, summary.seq))
    by_name = {p.filename: p for p in parts}
    assert by_name["data.bin"].sha256 == hashlib.sha256(blob).hexdigest()
    assert by_name["data.bin"].size == len(blob)
    assert (summary.attachments, summary.inlines) == (1, 1)
    assert "See attached." in mime.parse_message(raw).text
    assert "\n.leading dot\n..two dots\n.\n" in mime.parse_message(raw).text.replace("\r\n", "\n")


def test_send_message_through_smtplib_keeps_headers(running: RunningSandbox) -> None:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.com>"
    msg["To"] = "Bob <bob@example.com>, carol@example.com"
    msg["Cc"] = "dave@example.com"
    msg["Reply-To"] = "replies@example.com"
    msg["Subject"] = "=?utf-8?q?Caf=C3=A9?= menu"
    msg["Message-ID"] = "<fixed-id@example.com>"
    msg["Date"] = "Tue, 25 Nov 2025 10:00:00 +0100"
    msg.set_content("Hello")
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.send_message(msg)
    (summary,) = running.sandbox.db.read_sync(lambda conn: messages.list_summaries(conn))
    assert summary.message_id == "fixed-id@example.com"
    assert [a.address for a in summary.to] == ["bob@example.com", "carol@example.com"]
    assert [a.address for a in summary.cc] == ["dave@example.com"]
    assert summary.bcc == []  # every envelope recipient is in the headers
    assert [a.address for a in summary.reply_to] == ["replies@example.com"]
    assert summary.subject == "Café menu"
    assert summary.date == "2025-11-25T10:00:00+01:00"
    assert summary.source == "smtp" and summary.inbox == "default"
