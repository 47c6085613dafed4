"""Helpers for API tests: sending mail through the sandbox's real doors."""

from __future__ import annotations

import base64
import smtplib
from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox

SUMMARY_KEYS = [
    "ID", "MessageID", "Read", "From", "To", "Cc", "Bcc", "ReplyTo", "Subject", "Created",
    "Username", "Tags", "Size", "Attachments", "Snippet",
]  # fmt: skip
MESSAGE_KEYS = [
    "ID", "MessageID", "From", "To", "Cc", "Bcc", "ReplyTo", "ReturnPath", "Subject",
    "ListUnsubscribe", "Date", "Tags", "Username", "Text", "HTML", "Size", "Inline", "Attachments",
]  # fmt: skip
LIST_KEYS = [
    "total", "unread", "count", "messages_count", "messages_unread", "start", "tags", "messages",
]  # fmt: skip
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def send(api: httpx.Client, subject: str = "Hello", **fields: Any) -> str:
    """Send through ``POST /api/v1/send``; returns the new message's id."""
    body: dict[str, Any] = {
        "From": {"Email": "sender@example.com", "Name": "Sender"},
        "To": [{"Email": "rcpt@example.com"}],
        "Subject": subject,
        "Text": f"Body of {subject}",
    }
    body.update(fields)
    response = api.post("/api/v1/send", json=body)
    assert response.status_code == 200, response.text
    message_id: str = response.json()["ID"]
    return message_id


def smtp_send(running: RunningSandbox, raw: bytes, to: list[str] | None = None) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.sendmail("sender@example.com", to or ["rcpt@example.com"], raw)


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["Error"]
    text: str = body["Error"]
    return text
