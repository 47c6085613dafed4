"""Fixtures of the event-engine tests: a webhook receiver, and waiting for a message's events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mailsandbox.runner import RunningSandbox, start_in_thread
from tests.conftest import make_settings
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="module")
def shared_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One sandbox for a module whose tests leave nothing behind but rules."""
    running = start_in_thread(make_settings(tmp_path_factory.mktemp("events")))
    yield running
    running.stop()


@pytest.fixture
def shared_api(shared_running: RunningSandbox) -> Iterator[httpx.Client]:
    """A client of the shared sandbox; every rule is deleted after the test."""
    with httpx.Client(base_url=shared_running.url, timeout=30) as client:
        yield client
        for rule in client.get("/api/v1/rules").json()["rules"]:
            client.delete(f"/api/v1/rules/{rule['id']}")


def wait_events(
    api: httpx.Client,
    message_id: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 10.0,
) -> list[dict[str, Any]]:
    """Poll ``GET /api/v1/message/{id}/events`` until ``until(events)`` holds."""

    def matched() -> list[dict[str, Any]]:
        response = api.get(f"/api/v1/message/{message_id}/events")
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["events"]
        assert until(found), f"events never matched: {[e['Type'] for e in found]}"
        return found

    return eventually(matched, timeout=timeout)


def types_of(found: list[dict[str, Any]], recipient: str | None = None) -> list[str]:
    return [e["Type"] for e in found if recipient is None or e["Recipient"] == recipient]


def smtp_send(
    running: Any, to: list[str], subject: str = "Hello", sender: str = "app@example.com"
) -> str:
    """Send one message over real SMTP; returns the stored message's ID (from the 250 reply)."""
    import smtplib

    body = f"From: {sender}\r\nTo: {', '.join(to)}\r\nSubject: {subject}\r\n\r\nHi.\r\n"
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        client.mail(sender)
        for rcpt in to:
            code, reply = client.rcpt(rcpt)
            assert code == 250, reply
        code, reply = client.data(body.encode())
    assert code == 250, reply
    return reply.decode().rsplit(" ", 1)[-1]


def suppressed(running: Any, email: str, scope: str = "") -> list[str]:
    """The suppression kinds holding ``email``, read straight from the sandbox's SQLite file."""
    import sqlite3

    from mailsandbox.storage import suppressions

    conn = sqlite3.connect(running.settings.db_path)
    try:
        return sorted(suppressions.suppressed_kinds(conn, email, (scope,)))
    finally:
        conn.close()
