"""Fixtures for the Postmark emulator tests: postmarker pointed at a running sandbox (only its
``root_api_url``, as users configure it), a raw HTTP client with a server token, a webhook
pointing at a real local receiver, and lookups of stored messages by Postmark MessageID."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from postmarker.core import PostmarkClient

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage.messages import MessageSummary
from tests.emulators.stored import stored_by
from tests.sandbox.events.receiver import Receiver

TOKEN = "server-token-1"
HEADERS = {"X-Postmark-Server-Token": TOKEN, "Accept": "application/json"}
ALL_TRIGGERS = {
    name: {"Enabled": True}
    for name in ("Open", "Click", "Delivery", "Bounce", "SpamComplaint", "SubscriptionChange")
}


@pytest.fixture
def postmark(running: RunningSandbox) -> PostmarkClient:
    return PostmarkClient(server_token=TOKEN, root_api_url=running.url + "/")


@pytest.fixture
def pm(running: RunningSandbox) -> Iterator[httpx.Client]:
    """Raw HTTP with the server token (for what postmarker does not cover)."""
    with httpx.Client(base_url=running.url, headers=HEADERS, timeout=30) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def message(**fields: Any) -> dict[str, Any]:
    data = {"From": "Shop <shop@example.com>", "To": "ann@example.com", "Subject": "Hello",
            "TextBody": "Hi there"}  # fmt: skip
    data.update(fields)
    return data


def by_postmark_id(running: RunningSandbox, postmark_id: str) -> MessageSummary:
    """The stored message Postmark answered ``postmark_id`` for (metadata included)."""
    return stored_by(running, "$.postmark.message_id", postmark_id)


def make_webhook(pm: httpx.Client, url: str, **extra: Any) -> dict[str, Any]:
    body = {"Url": url, "Triggers": ALL_TRIGGERS, **extra}
    response = pm.post("/webhooks", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created
