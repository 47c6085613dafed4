"""SMTP hardening (issue 14), each with the input that broke it: CRAM-MD5 with a non-UTF-8
answer, STARTTLS inside TLS, a slow DATA upload against the idle timer, the connection cap,
and no deprecation warning per AUTH."""

from __future__ import annotations

import base64
import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable

import pytest

from mailsandbox.config import Settings
from mailsandbox.runner import RunningSandbox
from tests.sandbox.smtp.helpers import count, deliver
from tests.waiting import eventually

RAW = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hard\r\n\r\nHello.\r\n"
Factory = Callable[..., RunningSandbox]


def test_cram_md5_with_a_non_utf8_answer_is_501_and_the_session_goes_on(
    running: RunningSandbox,
) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.docmd("AUTH", "CRAM-MD5")[0] == 334
        answer = base64.b64encode(b"\xff\xfe\xfa user 0123456789abcdef").decode()
        assert client.docmd(answer) == (501, b"5.5.2 Can't decode the CRAM-MD5 answer")
        client.user, client.password = "alice", "secret"
        assert client.auth("CRAM-MD5", client.auth_cram_md5)[0] == 235  # usable: AUTH again
        deliver(client, RAW, ["b@example.com"])


@pytest.mark.parametrize("listener", ["starttls", "smtps"])
def test_starttls_inside_tls_is_503_and_the_session_goes_on(
    sandbox_factory: Factory, listener: str
) -> None:
    running = sandbox_factory(smtp_tls="self-signed", smtps="127.0.0.1:0")
    trusted = ssl.create_default_context(cafile=str(running.sandbox.tls_certificate))
    client: smtplib.SMTP
    if listener == "starttls":
        client = smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10)
        client.starttls(context=trusted)
    else:
        smtps = running.sandbox.smtps_address
        assert smtps is not None
        client = smtplib.SMTP_SSL(smtps[0], smtps[1], context=trusted, timeout=10)
    with client:
        client.ehlo()
        assert not client.has_extn("starttls")
        assert client.docmd("STARTTLS") == (503, b"5.5.1 TLS already active")
        deliver(client, RAW, ["b@example.com"])
    assert count(running) == 1


def test_a_slow_but_steady_data_upload_outlives_the_idle_timeout(
    sandbox_factory: Factory,
) -> None:
    running = sandbox_factory(smtp_timeout=0.5)
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        client.mail("a@example.com")
        client.rcpt("b@example.com")
        assert client.docmd("DATA")[0] == 354
        assert client.sock is not None
        client.sock.sendall(b"From: a@example.com\r\nSubject: slow\r\n\r\n")
        started = time.monotonic()
        for n in range(8):  # 1.6 s of upload, never 0.5 s without a byte
            time.sleep(0.2)  # the upload's pace (the input), not a wait for a condition
            client.sock.sendall(b"line %d\r\n" % n)
        assert time.monotonic() - started > 3 * 0.5
        client.sock.sendall(b".\r\n")
        code, reply = client.getreply()
        assert code == 250, reply
    assert count(running) == 1


def test_a_stalled_data_upload_still_times_out(sandbox_factory: Factory) -> None:
    running = sandbox_factory(smtp_timeout=0.5)
    with socket.create_connection((running.smtp_host, running.smtp_port), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220 ")
        sock.sendall(b"HELO client\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n")
        sock.sendall(b"DATA\r\n")
        replies = [reader.readline()[:3] for _ in range(4)]
        assert replies == [b"250", b"250", b"250", b"354"]
        sock.sendall(b"Subject: stalled\r\n\r\nthe first line, and then nothing")
        started = time.monotonic()
        assert reader.readline() == b""  # the server hung up
        assert 0.4 < time.monotonic() - started < 5
    assert count(running) == 0


def greeting(sock: socket.socket) -> bytes:
    return sock.makefile("rb").readline()


def test_connections_beyond_the_cap_get_421(sandbox_factory: Factory) -> None:
    running = sandbox_factory(smtp_max_connections=2, smtp_tls="self-signed", smtps="127.0.0.1:0")
    stats = running.sandbox.smtp_stats
    smtps = running.sandbox.smtps_address
    assert smtps is not None
    address = (running.smtp_host, running.smtp_port)
    trusted = ssl.create_default_context(cafile=str(running.sandbox.tls_certificate))
    first = socket.create_connection(address, timeout=10)
    assert greeting(first).startswith(b"220 ")
    with trusted.wrap_socket(
        socket.create_connection(smtps, timeout=10), server_hostname=smtps[0]
    ) as second:
        assert greeting(second).startswith(b"220 ")  # SMTPS counts as well
        with socket.create_connection(address, timeout=10) as third:
            reader = third.makefile("rb")
            assert reader.readline() == b"421 4.7.0 Too many connections, try again later\r\n"
            assert reader.readline() == b""  # and closed
        assert stats.refused_connections == 1
    first.close()
    eventually(lambda: stats.connections == 0, what="both connections counted out")
    with smtplib.SMTP(*address, timeout=10) as client:  # room again
        deliver(client, RAW, ["b@example.com"])


def test_the_default_connection_cap() -> None:
    assert Settings().smtp_max_connections == 200


def test_auth_logs_no_deprecation_warning(
    running: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for user in ("alice", "bob"):
        with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
            client.login(user, "secret")
            deliver(client, RAW, ["b@example.com"])
    assert count(running) == 2
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
