"""Fixtures for the SendGrid emulator tests: the official SDK pointed at a running sandbox,
and helpers reading what was stored through the REST API (metadata through the store)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sendgrid import SendGridAPIClient

from mailsandbox.runner import RunningSandbox


@pytest.fixture
def sg(running: RunningSandbox) -> SendGridAPIClient:
    """The official client, pointed at the sandbox the way the docs say."""
    return SendGridAPIClient("SG.test-key", host=running.url)


@pytest.fixture
def http(running: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def shared_running(shared: RunningSandbox) -> RunningSandbox:
    """One sandbox for a whole module, for tests that store nothing (bad requests)."""
    return shared


@pytest.fixture(scope="module")
def shared_sg(shared_running: RunningSandbox) -> SendGridAPIClient:
    return SendGridAPIClient("SG.test-key", host=shared_running.url)


@pytest.fixture(scope="module")
def shared_http(shared_running: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_running.url, timeout=30) as client:
        yield client
