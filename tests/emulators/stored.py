"""What the emulator tests read back: stored messages as the REST API lists them (oldest
first), one message's raw MIME, parsed, and a message found by its provider id (storage view,
metadata included)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from mailsandbox.storage.messages import MessageSummary
from tests.waiting import eventually


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


def stored_by(running: RunningSandbox, path: str, value: str) -> MessageSummary:
    """The stored message whose metadata holds ``value`` at JSON ``path`` (``$.postmark.
    message_id``...): the id a provider answered a send with (waits until it is there)."""

    def find() -> MessageSummary:
        found = running.sandbox.db.read_sync(
            lambda c: messages.summaries_where(
                c, "json_extract(metadata_json, ?) = ?", (path, value)
            )
        )
        assert found, (path, value)
        return found[0]

    return eventually(find)
