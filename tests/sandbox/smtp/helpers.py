"""Helpers for SMTP tests: deliver over a real socket, read what was stored."""

from __future__ import annotations

import re
import smtplib
import socket

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages

QUEUED = re.compile(rb"queued as (\w+)")


def deliver(client: smtplib.SMTP, raw: bytes, to: list[str], sender: str = "a@example.com") -> str:
    """MAIL, RCPT, DATA on an open client; returns the stored message's id from the 250."""
    client.ehlo_or_helo_if_needed()
    assert client.mail(sender)[0] == 250
    for rcpt in to:
        assert client.rcpt(rcpt)[0] == 250
    code, reply = client.data(raw)
    assert code == 250, reply
    found = QUEUED.search(reply)
    assert found, reply
    return found.group(1).decode()


def stored(running: RunningSandbox, message_id: str) -> messages.MessageSummary:
    summary = running.sandbox.db.read_sync(lambda conn: messages.get_summary(conn, message_id))
    assert summary is not None, f"{message_id} not stored"
    return summary


def raw_of(running: RunningSandbox, message_id: str) -> bytes:
    raw = running.sandbox.db.read_sync(lambda conn: messages.get_raw(conn, message_id))
    assert raw is not None
    return raw


def count(running: RunningSandbox) -> int:
    return running.sandbox.db.read_sync(lambda conn: messages.counts(conn)[0])


def read_replies(sock: socket.socket, timeout: float = 10.0) -> list[bytes]:
    """Every reply line until the server closes the connection (a silent server fails the
    read after ``timeout`` seconds)."""
    sock.settimeout(timeout)
    data = b"".join(iter(lambda: sock.recv(65536), b""))
    return data.split(b"\r\n")[:-1]
