"""Helpers for the SendGrid tests: reading what was stored through the REST API (metadata
through the store), and a valid mail-send body to break one field at a time."""

from __future__ import annotations

from typing import Any

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from tests.emulators.stored import listed, raw_message

__all__ = ["listed", "mail_body", "metadata", "raw_message"]


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
