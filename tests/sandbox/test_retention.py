"""Retention: ``--max-messages`` and ``--max-age`` prune in the background, never on the way in.

What a user sees is read through the API: the listing and ``/api/v1/info``'s
``MessagesDeleted``. Pruning runs on a 1 s timer, so a test waits for its outcome (never for
a fixed time) and never counts the stored messages at a moment the timer may be pruning.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from mailsandbox.runtime import parse_duration
from tests.waiting import eventually


def _subjects(running: RunningSandbox) -> list[str]:
    listing = httpx.get(f"{running.url}/api/v1/messages", timeout=10).json()
    return [m["Subject"] for m in listing["messages"]]


def _deleted(running: RunningSandbox) -> int:
    info = httpx.get(f"{running.url}/api/v1/info", timeout=10).json()
    return int(info["RuntimeStats"]["MessagesDeleted"])


def _send(running: RunningSandbox, subjects: list[str]) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        for subject in subjects:
            refused = client.sendmail(
                "a@example.com", ["b@example.com"], f"Subject: {subject}\r\n\r\nx\r\n"
            )
            assert refused == {}


def test_max_messages_keeps_the_newest(sandbox_factory: Callable[..., RunningSandbox]) -> None:
    running = sandbox_factory(max_messages=3)
    _send(running, [f"m{n}" for n in range(7)])  # all 7 accepted: the limit never refuses
    assert running.sandbox.ingestor.accepted == 7
    # The deletion commits before the deleted count moves: wait for both.
    eventually(lambda: _subjects(running) == ["m6", "m5", "m4"] and _deleted(running) == 4)


def test_max_age_drops_old_messages(sandbox_factory: Callable[..., RunningSandbox]) -> None:
    running = sandbox_factory(max_age="2s", max_messages=0)
    _send(running, ["old"])
    assert _subjects(running) == ["old"]
    eventually(lambda: _subjects(running) == [], timeout=15, what="old mail is pruned")
    _send(running, ["new"])
    assert _subjects(running) == ["new"]  # younger than 2 s: kept
    assert _deleted(running) == 1


def test_unlimited_keeps_everything(sandbox_factory: Callable[..., RunningSandbox]) -> None:
    running = sandbox_factory(max_messages=0)
    _send(running, [f"m{n}" for n in range(5)])
    checks = running.sandbox.retention_checks
    eventually(lambda: running.sandbox.retention_checks >= checks + 2, what="two checks ran")
    assert len(_subjects(running)) == 5
    assert _deleted(running) == 0


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("12h", 43200), ("7d", 604800)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(ValueError):
        parse_duration("soon")
