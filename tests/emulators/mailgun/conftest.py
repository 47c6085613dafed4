"""Fixtures for the Mailgun emulator tests: the official ``mailgun`` SDK pointed at a running
sandbox (http is allowed by the SDK only for ``localhost`` / ``127.0.0.1``)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from mailgun.client import Client

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from mailsandbox.storage.messages import MessageSummary
from tests.waiting import eventually

DOMAIN = "mg.example.com"
KEY = "key-x"


@pytest.fixture
def mg(running: RunningSandbox) -> Iterator[Client]:
    with Client(auth=("api", KEY), api_url=running.url) as client:
        yield client


def stored(api: httpx.Client) -> list[dict[str, Any]]:
    """Summaries of every stored message, oldest first."""
    messages: list[dict[str, Any]] = api.get("/api/v1/messages").json()["messages"]
    return list(reversed(messages))


def raw_message(api: httpx.Client, message_id: str) -> EmailMessage:
    raw = api.get(f"/api/v1/message/{message_id}/raw").content
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def stored_summary(running: RunningSandbox, message_id: str) -> MessageSummary:
    """The storage view of a message (inbox, source, ESP metadata)."""
    summary = running.sandbox.db.read_sync(lambda conn: messages.get_summary(conn, message_id))
    assert summary is not None
    return summary


@pytest.fixture(scope="module")
def shared_mg(shared: RunningSandbox) -> Iterator[Client]:
    with Client(auth=("api", KEY), api_url=shared.url) as client:
        yield client


@pytest.fixture(scope="module")
def shared_api(shared: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared.url, timeout=30) as client:
        yield client


def wait_for_events(mg: Client, count: int, domain: str = DOMAIN) -> list[dict[str, Any]]:
    """Poll until the domain has ``count`` events (the engine works in the background)."""

    def listed() -> list[dict[str, Any]]:
        answer = mg.events.get(domain=domain, filters={"limit": 300}).json()
        items: list[dict[str, Any]] = answer["items"]
        assert len(items) >= count, [i["event"] for i in items]
        return items

    items = eventually(listed, timeout=15)
    assert len(items) == count, [i["event"] for i in items]
    return items
