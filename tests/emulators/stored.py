"""What the emulator tests read back through the REST API: stored messages as listed (oldest
first) and one message's raw MIME, parsed."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import httpx


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
