"""Stopping the server during SMTP sessions (SIGTERM, a rolling restart): nothing acknowledged
is lost and nothing stored goes unacknowledged (see mailsandbox.smtp.drain)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from mailsandbox.smtp import drain
from tests.sandbox.smtp.helpers import QUEUED, read_replies
from tests.waiting import eventually

SHUTTING_DOWN = drain.SHUTTING_DOWN.rstrip()


def session(running: RunningSandbox) -> socket.socket:
    sock = socket.create_connection((running.smtp_host, running.smtp_port), timeout=10)
    sock.sendall(b"EHLO client.example.com\r\n")
    received = b""
    while not received.endswith(b"\r\n") or b"250 " not in received:
        received += sock.recv(4096)
    return sock


def test_a_message_being_sent_at_shutdown_is_stored_and_acknowledged_the_rest_get_421(
    sandbox_factory: Callable[..., RunningSandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Time enough for the second half to arrive however busy the machine is (the stop
    # returns as soon as it has: this is a ceiling, not a wait).
    monkeypatch.setattr(drain, "GRACE", 30.0)
    running = sandbox_factory()
    address = (running.smtp_host, running.smtp_port)
    idle, sending = session(running), session(running)
    sending.sendall(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
    eventually(lambda: b"354 " in sending.recv(4096))
    sending.sendall(b"Subject: in flight\r\n\r\nfirst half\r\n")

    stopper = threading.Thread(target=running.stop)
    stopper.start()
    try:
        # The idle session is told at once; the listener no longer accepts anyone.
        assert read_replies(idle) == [SHUTTING_DOWN]
        with pytest.raises(OSError):
            socket.create_connection(address, timeout=2).close()
        assert stopper.is_alive()  # waiting for the message in flight
        sending.sendall(b"second half\r\n.\r\n")
        final, goodbye = read_replies(sending)
    finally:
        stopper.join(60)
    assert not stopper.is_alive()
    assert goodbye == SHUTTING_DOWN
    found = QUEUED.search(final)
    assert final.startswith(b"250 ") and found, final

    again = sandbox_factory()  # the same database
    message = httpx.get(f"{again.url}/api/v1/message/{found.group(1).decode()}", timeout=10)
    assert message.status_code == 200
    assert message.json()["Subject"] == "in flight"
    assert "second half" in message.json()["Text"]
