"""Broken mail and hostile clients: everything is stored or refused cleanly; the server goes on."""

from __future__ import annotations

import smtplib
import socket

import pytest

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from tests.sandbox.smtp.helpers import count, deliver, raw_of, read_replies, stored


@pytest.mark.parametrize(
    ("raw", "subject"),
    [
        pytest.param(
            b"Content-Type: multipart/mixed; boundary=zz\r\nSubject: broken\r\n\r\n"
            b"--zz\r\nContent-Type: text/plain\r\n\r\nunterminated part, no closing boundary\r\n",
            "broken",
            id="malformed-mime",
        ),
        pytest.param(
            b"Subject: caf\xe9 \xff\xfe\x80\r\nFrom: \xc3\x28 <x@example.com>\r\n\r\nbody\r\n",
            "caf\xe9 \xff\xfe\x80",
            id="8bit-garbage-headers",
        ),
        pytest.param(b"just a body, no headers at all\r\n", "", id="missing-headers"),
        pytest.param(
            b"Subject: lone LF\nFrom: a@example.com\n\nline 1\nline 2\n", "lone LF", id="lf"
        ),
        pytest.param(b"", "", id="zero-bytes"),
    ],
)
def test_bad_mail_is_stored(running: RunningSandbox, raw: bytes, subject: str) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        message_id = deliver(client, raw, ["rcpt@example.com"])
    summary = stored(running, message_id)
    assert summary.subject == subject
    assert summary.bcc[-1].address == "rcpt@example.com"  # envelope-only recipient kept
    assert summary.message_id  # generated when missing
    stored_raw = raw_of(running, message_id)
    assert b"\n" not in stored_raw.replace(b"\r\n", b"")  # line endings normalised to CRLF
    if raw and b"\r\n" in raw:
        assert stored_raw.endswith(raw)


def test_a_pipeline_of_1000_commands_in_one_write(running: RunningSandbox) -> None:
    rcpts = [f"r{n}@example.com" for n in range(996)]
    commands = [b"EHLO pipeline.example", b"MAIL FROM:<a@example.com>"]
    commands += [f"RCPT TO:<{r}>".encode() for r in rcpts]
    commands += [b"DATA", b"Subject: pipelined\r\n\r\nhi\r\n.", b"QUIT"]
    assert len(commands) == 1000 + 1  # 1000 commands plus the message itself
    with socket.create_connection((running.smtp_host, running.smtp_port), timeout=10) as sock:
        sock.sendall(b"\r\n".join(commands) + b"\r\n")
        replies = read_replies(sock)
    codes = [line[:3] for line in replies if line[3:4] == b" "]
    assert codes == [b"220", b"250", b"250", *[b"250"] * 996, b"354", b"250", b"221"]
    (summary,) = running.sandbox.db.read_sync(lambda conn: messages.list_summaries(conn))
    assert summary.subject == "pipelined"
    assert summary.recipients == rcpts


def test_a_client_that_disconnects_mid_data(running: RunningSandbox) -> None:
    with socket.create_connection((running.smtp_host, running.smtp_port), timeout=10) as sock:
        sock.sendall(b"HELO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        sock.sendall(b"Subject: cut off\r\n\r\nhalf a mess")
        received = b""
        while b"354" not in received:
            received += sock.recv(4096)
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        message_id = deliver(client, b"Subject: next\r\n\r\nfine\r\n", ["b@example.com"])
    assert count(running) == 1
    assert stored(running, message_id).subject == "next"


def test_garbage_commands_get_errors_and_the_session_goes_on(running: RunningSandbox) -> None:
    with socket.create_connection((running.smtp_host, running.smtp_port), timeout=10) as sock:
        sock.sendall(
            b"EHLO x\r\n\xff\xfe\x00garbage\r\nDATA\r\n" + b"X" * 5000 + b"\r\n"
            b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nQUIT\r\n"
        )
        replies = read_replies(sock)
    codes = [line[:3] for line in replies if line[3:4] == b" "]
    assert codes == [b"220", b"250", b"500", b"503", b"500", b"250", b"250", b"221"]
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        deliver(client, b"Subject: after\r\n\r\nok\r\n", ["b@example.com"])
