"""Helpers for the SendGrid tests: reading what was stored through the REST API (metadata
through the store), and a valid mail-send body to break one field at a time."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages


def listed(api: httpx.Client) -> list[dict[str, Any]]:
    """Stored messages as the REST API lists them, oldest first."""
    response = api.get("/api/v1/messages")
    assert response.status_code == 200
    return list(reversed(response.json()["messages"]))


def raw_message(api: httpx.Client, message_id: str) -> EmailMessage:
    response = api.get(f"/api/v1/message/{message_id}/raw")
    assert response.status_code == 200
    lf = response.content.replace(b"\r\n", b"\n")  # parse as Python writes messages
    parsed = email.message_from_bytes(lf, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def metadata(running: RunningSandbox, message_id: str) -> dict[str, Any]:
    """The ``sendgrid`` metadata kept with a stored message."""
    summary = running.sandbox.db.read_sync(lambda conn: messages.get_summary(conn, message_id))
    assert summary is not None
    data: dict[str, Any] = summary.metadata["sendgrid"]
    return data


def mail_body(**overrides: Any) -> dict[str, Any]:
    """A valid minimal mail-send body; ``overrides`` replace top-level keys."""
    body: dict[str, Any] = {
        "personalizations": [{"to": [{"email": "bob@example.com"}]}],
        "from": {"email": "ann@example.com"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi Bob"}],
    }
    body.update(overrides)
    return body
