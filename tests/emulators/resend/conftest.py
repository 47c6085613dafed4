"""Fixtures for the Resend emulator tests: the resend Python SDK pointed at a running sandbox
(``resend.api_url`` and ``resend.api_key``, as users configure it), a raw HTTP client with a
Bearer key, and lookups of stored messages by Resend email id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import resend

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage.messages import MessageSummary
from tests.emulators.stored import stored_by
from tests.sandbox.events.receiver import Receiver

KEY = "re_test_key_1"
EMAIL_EVENTS = [
    "email.sent",
    "email.delivered",
    "email.delivery_delayed",
    "email.bounced",
    "email.complained",
    "email.opened",
    "email.clicked",
]


@pytest.fixture
def sdk(running: RunningSandbox) -> Iterator[Any]:
    """The resend module configured for the sandbox (and put back afterwards)."""
    saved = resend.api_url, resend.api_key
    resend.api_url, resend.api_key = running.url, KEY
    yield resend
    resend.api_url, resend.api_key = saved


@pytest.fixture
def rs(running: RunningSandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=running.url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def email(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"from": "Shop <shop@example.com>", "to": ["ann@example.com"],
                            "subject": "Hello", "text": "Hi there"}  # fmt: skip
    data.update(fields)
    return data


def by_resend_id(running: RunningSandbox, email_id: str) -> MessageSummary:
    """The stored message Resend answered ``email_id`` for (metadata included)."""
    return stored_by(running, "$.resend.id", email_id)
