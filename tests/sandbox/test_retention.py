"""Retention: ``--max-messages`` and ``--max-age`` prune in the background, never on the way in."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable

import pytest

from mailsandbox.runner import RunningSandbox
from mailsandbox.runtime import parse_duration
from mailsandbox.storage import messages


def _subjects(running: RunningSandbox) -> list[str]:
    rows = running.sandbox.db.read_sync(lambda conn: messages.list_summaries(conn, limit=-1))
    return [s.subject for s in rows]


def _wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _send(running: RunningSandbox, subjects: list[str]) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        for subject in subjects:
            client.sendmail("a@example.com", ["b@example.com"], f"Subject: {subject}\r\n\r\nx\r\n")


def test_max_messages_keeps_the_newest(sandbox_factory: Callable[..., RunningSandbox]) -> None:
    running = sandbox_factory(max_messages=3)
    _send(running, [f"m{n}" for n in range(7)])
    assert len(_subjects(running)) == 7  # accepted first: pruning is not on the hot path
    _wait_for(lambda: len(_subjects(running)) == 3)
    assert _subjects(running) == ["m6", "m5", "m4"]
    assert running.sandbox.messages_deleted == 4


def test_max_age_drops_old_messages(sandbox_factory: Callable[..., RunningSandbox]) -> None:
    running = sandbox_factory(max_age="1s", max_messages=0)
    _send(running, ["old"])
    time.sleep(1.1)
    _send(running, ["new"])
    _wait_for(lambda: _subjects(running) == ["new"])


def test_unlimited_keeps_everything(sandbox_factory: Callable[..., RunningSandbox]) -> None:
    running = sandbox_factory(max_messages=0)
    _send(running, [f"m{n}" for n in range(5)])
    time.sleep(1.3)  # a retention pass has run
    assert len(_subjects(running)) == 5


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("12h", 43200), ("7d", 604800)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(ValueError):
        parse_duration("soon")
