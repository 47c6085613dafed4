"""TLS only when asked for: off by default, self-signed or given pairs, --smtp-require-tls, errors.

Files for the "given pair" cases are made with Debian's ``openssl`` command, as a user would.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from mailsandbox.runner import RunningSandbox
from mailsandbox.smtp import tls
from tests.sandbox.smtp.helpers import deliver, stored
from tests.tools import require_program
from tests.waiting import eventually

RAW = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: tls\r\n\r\nHello.\r\n"
Factory = Callable[..., RunningSandbox]


def openssl_pair(directory: Path, *extra: str) -> tuple[Path, Path]:
    """A self-signed EC pair from ``openssl req -x509`` (``extra``: more arguments)."""
    openssl = require_program("openssl", "openssl")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
         *(extra or ("-noenc",))],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_tls_is_off_by_default(running: RunningSandbox) -> None:
    assert "no TLS" in httpx.get(running.url + "/").text  # what the empty inbox tells
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        assert client.docmd("STARTTLS") == (454, b"TLS not available")
        deliver(client, RAW, ["b@example.com"])  # plain SMTP, as clients fall back to
    assert running.sandbox.tls_certificate is None
    assert not (running.settings.data_dir / tls.CERT_FILE).exists()  # nothing generated


def test_the_generated_certificate_verifies_for_localhost_and_loopback(
    sandbox_factory: Factory,
) -> None:
    running = sandbox_factory(smtp_tls="self-signed")
    cert = running.settings.data_dir / tls.CERT_FILE
    assert running.sandbox.tls_certificate == cert
    names = (
        x509.load_pem_x509_certificate(cert.read_bytes())
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    assert {"localhost"} <= set(names.get_values_for_type(x509.DNSName))
    assert {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")} <= set(
        names.get_values_for_type(x509.IPAddress)
    )
    # A client that trusts the file verifies the host name, by name and by address.
    for host in ("localhost", "127.0.0.1"):
        with smtplib.SMTP(host, running.smtp_port, timeout=10) as client:
            client.starttls(context=ssl.create_default_context(cafile=str(cert)))
            deliver(client, RAW, ["b@example.com"])


def test_a_generated_certificate_without_the_loopback_addresses_is_replaced(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    # What an earlier version generated: DNS names only, so clients reaching 127.0.0.1 failed.
    old_cert, old_key = openssl_pair(
        tmp_path / "old", "-noenc", "-addext", "subjectAltName=DNS:localhost"
    )
    (tmp_path / tls.CERT_FILE).write_bytes(old_cert.read_bytes())
    (tmp_path / tls.KEY_FILE).write_bytes(old_key.read_bytes())
    running = sandbox_factory(smtp_tls="self-signed")
    assert (tmp_path / tls.CERT_FILE).read_bytes() != old_cert.read_bytes()
    cert = str(tmp_path / tls.CERT_FILE)
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.starttls(context=ssl.create_default_context(cafile=cert))
        deliver(client, RAW, ["b@example.com"])


def test_require_tls_refuses_mail_and_auth_before_starttls(sandbox_factory: Factory) -> None:
    running = sandbox_factory(smtp_tls="self-signed", smtp_require_tls=True, smtps="127.0.0.1:0")
    assert "STARTTLS required" in httpx.get(running.url + "/").text  # told on the empty inbox
    trusted = ssl.create_default_context(cafile=str(running.sandbox.tls_certificate))
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")  # not offered in plain text when TLS is required
        refusal = (530, b"5.7.0 Must issue a STARTTLS command first")
        assert client.mail("a@example.com") == refusal
        assert client.docmd("AUTH", "PLAIN AGFsaWNlAHNlY3JldA==") == refusal
        assert client.noop()[0] == 250
        client.starttls(context=trusted)
        client.ehlo()
        assert client.has_extn("auth")
        client.login("alice", "secret")
        message_id = deliver(client, RAW, ["b@example.com"])
    assert stored(running, message_id).username == "alice"
    smtps = running.sandbox.smtps_address
    assert smtps is not None
    with smtplib.SMTP_SSL(smtps[0], smtps[1], context=trusted, timeout=10) as client:
        client.login("bob", "secret")  # already encrypted: nothing more to require
        deliver(client, RAW, ["b@example.com"])


def test_an_aborted_handshake_is_one_log_line(
    sandbox_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    running = sandbox_factory(smtp_tls="self-signed")
    caplog.set_level(logging.INFO)
    # The system's trust store does not know the generated certificate: the client aborts.
    with (
        smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        client.starttls(context=ssl.create_default_context())
    # The server logs before it closes its side: once the connection is gone, all is logged.
    eventually(lambda: running.sandbox.smtp_stats.connections == 0, what="connection closed")
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert len(problems) == 1, [r.getMessage() for r in problems]
    line = problems[0].getMessage()
    assert line.startswith("STARTTLS from 127.0.0.1:"), line
    assert "unknown ca" in line and "trust the certificate" in line
    assert problems[0].exc_info is None and "\n" not in line


def test_a_given_pair_is_used(tmp_path: Path, sandbox_factory: Factory) -> None:
    cert, key = openssl_pair(tmp_path / "given")
    running = sandbox_factory(smtp_tls_cert=str(cert), smtp_tls_key=str(key))
    with smtplib.SMTP("localhost", running.smtp_port, timeout=10) as client:
        client.starttls(context=ssl.create_default_context(cafile=str(cert)))
        deliver(client, RAW, ["b@example.com"])
    assert not (tmp_path / tls.CERT_FILE).exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing cert", "TLS certificate {cert}: No such file or directory"),
        ("key is a directory", "TLS key {key}: Is a directory"),
        ("cert is not PEM", "TLS certificate {cert}: not a PEM certificate"),
        ("key is not PEM", "TLS key {key}: not a PEM private key"),
        ("key has a passphrase", "TLS key {key}: protected by a passphrase"),
        ("key of another pair", "TLS key {key} does not belong to the certificate {cert}"),
    ],
)
def test_bad_tls_files_are_one_line_naming_the_file(
    tmp_path: Path, sandbox_factory: Factory, case: str, message: str
) -> None:
    cert, key = openssl_pair(tmp_path / "pair")
    if case == "missing cert":
        cert.unlink()
    elif case == "key is a directory":
        key.unlink()
        key.mkdir()
    elif case == "cert is not PEM":
        cert.write_text("not a certificate\n")
    elif case == "key is not PEM":
        key.write_bytes(cert.read_bytes())
    elif case == "key has a passphrase":
        cert, key = openssl_pair(tmp_path / "locked", "-passout", "pass:secret")
    else:
        _, key = openssl_pair(tmp_path / "other")
    with pytest.raises(ValueError) as refused:
        sandbox_factory(smtp_tls_cert=str(cert), smtp_tls_key=str(key))
    assert str(refused.value).startswith(message.format(cert=cert, key=key))


def test_serve_with_a_bad_tls_file_exits_2_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "cert.pem"
    result = subprocess.run(
        [sys.executable, "-m", "mailsandbox", "serve", "--db", str(tmp_path / "x.db"),
         "--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0",
         "--smtp-tls-cert", str(missing), "--smtp-tls-key", str(missing)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert (
        result.stderr
        == f"mailsandbox serve: TLS certificate {missing}: No such file or directory\n"
    )
    assert result.stdout == ""  # nothing announced as listening


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--smtps", "127.0.0.1:0"], "--smtps needs TLS"),
        (["--smtp-require-tls"], "--smtp-require-tls needs TLS"),
        (["--smtp-tls", "on"], "--smtp-tls is off or self-signed"),
    ],
)
def test_tls_flags_that_cannot_work_exit_2_with_one_line(
    tmp_path: Path, flags: list[str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailsandbox", "serve", "--db", str(tmp_path / "x.db"), *flags],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith(f"mailsandbox serve: {message}")
    assert result.stderr.count("\n") == 1
