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
from mailsandbox.storage import messages
from mailsandbox.storage.messages import MessageSummary
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually

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

    def find() -> MessageSummary:
        found = running.sandbox.db.read_sync(
            lambda c: messages.summaries_where(
                c, "json_extract(metadata_json, '$.postmark.message_id') = ?", (postmark_id,)
            )
        )
        assert found, postmark_id
        return found[0]

    return eventually(find)


def make_webhook(pm: httpx.Client, url: str, **extra: Any) -> dict[str, Any]:
    body = {"Url": url, "Triggers": ALL_TRIGGERS, **extra}
    response = pm.post("/webhooks", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created
