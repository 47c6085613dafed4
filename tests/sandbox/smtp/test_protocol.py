"""SMTP over real sockets: extensions, STARTTLS, SMTPS, AUTH, limits and timeouts."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mailsandbox.runner import RunningSandbox
from mailsandbox.smtp import tls
from mailsandbox.storage import messages
from tests.sandbox.smtp.helpers import count, deliver, raw_of, stored

RAW = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nHello.\r\n"
Factory = Callable[..., RunningSandbox]


def trusting(cert: Path) -> ssl.SSLContext:
    """A client context that trusts exactly ``cert``, checking the host name as clients do
    (the tests connect to 127.0.0.1, which the generated certificate names)."""
    return ssl.create_default_context(cafile=str(cert))


def test_ehlo_advertises_the_extensions(running: RunningSandbox) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        code, _ = client.ehlo("client.example.com")
        assert code == 250
        features = client.esmtp_features
        assert features["size"] == str(50 * 1024 * 1024)
        for name in ("8bitmime", "smtputf8", "pipelining"):
            assert name in features
        assert "starttls" not in features  # TLS only when asked for (--smtp-tls)
        assert features["auth"].split() == ["PLAIN", "LOGIN", "CRAM-MD5"]


def test_starttls_with_the_generated_certificate(sandbox_factory: Factory) -> None:
    running = sandbox_factory(smtp_tls="self-signed")
    cert = running.settings.data_dir / "mailsandbox.cert.pem"
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        assert "starttls" in client.esmtp_features
        client.starttls(context=trusting(cert))  # fails unless the served cert is that file
        client.ehlo()
        assert "starttls" not in client.esmtp_features
        client.login("alice", "whatever")
        message_id = deliver(client, RAW, ["b@example.com"])
    summary = stored(running, message_id)
    assert (summary.username, summary.inbox) == ("alice", "alice")


def test_starttls_with_a_given_certificate(tmp_path: Path, sandbox_factory: Factory) -> None:
    cert, key = tls.ensure_self_signed(tmp_path / "given", hostname="given.test")
    running = sandbox_factory(smtp_tls_cert=str(cert), smtp_tls_key=str(key))
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.starttls(context=trusting(cert))
        assert isinstance(client.sock, ssl.SSLSocket)
        peer = client.sock.getpeercert()
        assert peer is not None
        assert peer["subject"] == ((("commonName", "given.test"),),)
        deliver(client, RAW, ["b@example.com"])
    assert not (running.settings.data_dir / "mailsandbox.cert.pem").exists()


def test_smtps_implicit_tls(sandbox_factory: Factory) -> None:
    running = sandbox_factory(smtps="127.0.0.1:0", smtp_tls="self-signed")
    smtps = running.sandbox.smtps_address
    assert smtps is not None
    cert = running.settings.data_dir / "mailsandbox.cert.pem"
    with smtplib.SMTP_SSL(smtps[0], smtps[1], context=trusting(cert), timeout=10) as client:
        client.ehlo()
        assert "starttls" not in client.esmtp_features  # already encrypted
        message_id = deliver(client, RAW, ["b@example.com"])
    assert stored(running, message_id).subject == "hi"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_configured_credentials_are_enforced(sandbox_factory: Factory, mechanism: str) -> None:
    running = sandbox_factory(smtp_auth=["app:s3cret:x", "other:pw"])
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.mail("a@example.com")[0] == 530  # AUTH is required once configured
        client.rset()
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            login(client, mechanism, "app", "wrong")
        assert refused.value.smtp_code == 535
        assert login(client, mechanism, "app", "s3cret:x")[0] == 235
        message_id = deliver(client, RAW, ["b@example.com"])
    assert stored(running, message_id).username == "app"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_any_credentials_without_smtp_auth(running: RunningSandbox, mechanism: str) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        assert login(client, mechanism, "anyone", "anything")[0] == 235
        message_id = deliver(client, RAW, ["b@example.com"])
    assert stored(running, message_id).username == "anyone"


def login(client: smtplib.SMTP, mechanism: str, user: str, password: str) -> tuple[int, bytes]:
    """AUTH with smtplib's own implementation of each mechanism."""
    client.user, client.password = user, password
    if mechanism == "PLAIN":
        code, reply = client.auth(mechanism, client.auth_plain, initial_response_ok=False)
    elif mechanism == "LOGIN":
        code, reply = client.auth(mechanism, client.auth_login, initial_response_ok=False)
    else:
        code, reply = client.auth(mechanism, client.auth_cram_md5, initial_response_ok=False)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)
    return code, reply


def test_message_at_the_size_limit_is_accepted_one_byte_more_is_552(
    sandbox_factory: Factory,
) -> None:
    running = sandbox_factory(smtp_max_size=4000)
    head = b"From: a@example.com\r\nSubject: size\r\n\r\n"
    exact = head + b"x" * (4000 - len(head) - 2) + b"\r\n"
    assert len(exact) == 4000
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        message_id = deliver(client, exact, ["b@example.com"])
        assert raw_of(running, message_id).endswith(exact)
        client.mail("a@example.com")
        client.rcpt("b@example.com")
        code, reply = client.data(head + b"x" * (4000 - len(head) - 1) + b"\r\n")
        assert code == 552, reply
        client.rset()
        assert client.mail("a@example.com", ["SIZE=4001"])[0] == 552  # declared up front
        deliver(client, RAW, ["b@example.com"])  # the connection is still good
    assert count(running) == 2


def test_too_many_recipients_is_452(sandbox_factory: Factory) -> None:
    running = sandbox_factory(smtp_max_recipients=3)
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        client.mail("a@example.com")
        for n in range(3):
            assert client.rcpt(f"r{n}@example.com")[0] == 250
        assert client.rcpt("r3@example.com")[0] == 452
        assert client.data(RAW)[0] == 250
    (summary,) = running.sandbox.db.read_sync(lambda conn: messages.list_summaries(conn))
    assert summary.recipients == ["r0@example.com", "r1@example.com", "r2@example.com"]


def test_idle_connections_are_closed(sandbox_factory: Factory) -> None:
    running = sandbox_factory(smtp_timeout=0.5)
    with socket.create_connection((running.smtp_host, running.smtp_port), timeout=5) as sock:
        assert sock.recv(1024).startswith(b"220 ")
        started = time.monotonic()
        assert sock.recv(1024) == b""  # the server hung up
        assert 0.3 < time.monotonic() - started < 4


def test_each_command_moves_the_idle_deadline(sandbox_factory: Factory) -> None:
    running = sandbox_factory(smtp_timeout=0.5)
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=5) as client:
        # Idling is the behaviour under test: these pauses are the input, not waits.
        for _ in range(5):  # 1.5 s in all, never 0.5 s without a command
            time.sleep(0.3)
            assert client.noop()[0] == 250
        time.sleep(1.0)  # idle for twice the timeout
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()


def test_smtputf8_addresses(running: RunningSandbox) -> None:
    raw = (
        "From: Jörg <jörg@bücher.example>\r\nTo: Zoë <zoë@exämple.com>\r\n"
        "Subject: Grüße\r\n\r\nHallo.\r\n"
    ).encode()
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.mail("jörg@bücher.example", ["SMTPUTF8"])[0] == 250
        assert client.rcpt("zoë@exämple.com")[0] == 250
        code, reply = client.data(raw)
        assert code == 250, reply
    (summary,) = running.sandbox.db.read_sync(lambda conn: messages.list_summaries(conn))
    assert summary.mail_from == "jörg@bücher.example"
    assert summary.recipients == ["zoë@exämple.com"]
    assert (summary.from_.name, summary.from_.address) == ("Jörg", "jörg@bücher.example")
    assert summary.to[0].address == "zoë@exämple.com"
    assert summary.subject == "Grüße"
