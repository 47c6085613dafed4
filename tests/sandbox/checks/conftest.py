"""Fixtures for the message-check tests: the local link site, a real spamd, delivery."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.check_servers import LinkServer, running_spamd


@pytest.fixture
def link_server() -> Iterator[LinkServer]:
    server = LinkServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def spamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_spamd(tmp_path_factory.mktemp("spamd")) as address:
        yield address


def deliver(running: RunningSandbox, raw: bytes, to: list[str] | None = None) -> str:
    """Send ``raw`` over SMTP; returns the stored message's ID."""
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.sendmail("sender@example.com", to or ["rcpt@example.com"], raw)
    with httpx.Client(base_url=running.url, timeout=30) as api:
        newest: str = api.get("/api/v1/messages?limit=1").json()["messages"][0]["ID"]
    return newest
