"""Real SMTP clients with their default settings, as apps use them (issue 11 section 2).

Clients that start TLS whenever it is offered and verify the certificate (nodemailer, PHPMailer,
Ruby's mail gem, ``aiosmtplib.send``) used to fail against the always-offered self-signed
STARTTLS. Now: against the default sandbox they send in plain text; against a sandbox started
with ``--smtp-tls self-signed --smtp-require-tls`` (so mail only arrives over TLS) they send
once told to trust the generated certificate, verifying it. Django is tried with and without
``EMAIL_USE_TLS``. The clients run as their own processes (aiosmtplib in this one); node and
npm packages come from ``tests.tools``, PHP and Ruby from Debian (``.ci/run`` installs them).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from tests.tools import node_modules, require_program, run_node

HERE = Path(__file__).parent
PHPMAILER = Path("/usr/share/php/libphp-phpmailer/autoload.php")
CLIENTS = ["nodemailer", "phpmailer", "ruby-mail", "django", "aiosmtplib"]
SUBJECTS = {
    "nodemailer": "sent by nodemailer",
    "phpmailer": "sent by PHPMailer",
    "ruby-mail": "sent by the mail gem",
    "django": "sent by Django",
    "aiosmtplib": "sent by aiosmtplib",
}
Factory = Callable[..., RunningSandbox]


def send(client: str, port: int, ca_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Send one message to ``localhost:port`` with ``client``; trust ``ca_file`` if given."""
    args = ["localhost", str(port)]
    ca = [str(ca_file)] if ca_file else []
    if client == "nodemailer":
        return run_node(HERE / "client_nodemailer.js", node_modules("nodemailer@10"), *args, *ca)
    if client == "phpmailer":
        php = require_program("php", "php-cli")
        if not PHPMAILER.exists():
            pytest.fail("PHPMailer is required (apt-get install libphp-phpmailer)")
        return run([php, str(HERE / "client_phpmailer.php"), *args, *ca])
    if client == "ruby-mail":
        ruby = require_program("ruby", "ruby")
        if run([ruby, "-e", 'require "mail"']).returncode != 0:
            pytest.fail("Ruby's mail gem is required (apt-get install ruby-mail)")
        return run([ruby, str(HERE / "client_ruby_mail.rb"), *args, *ca])
    if client == "django":
        # EMAIL_USE_TLS verifies with the default trust store, which SSL_CERT_FILE replaces.
        env = {"SSL_CERT_FILE": str(ca_file)} if ca_file else {}
        tls = ["tls"] if ca_file else []
        return run([sys.executable, str(HERE / "client_django.py"), *args, *tls], env)
    return send_with_aiosmtplib(port, ca_file)


def run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


def send_with_aiosmtplib(port: int, ca_file: Path | None) -> subprocess.CompletedProcess[str]:
    """``aiosmtplib.send()`` with its defaults (STARTTLS when offered, certificates verified)."""
    message = EmailMessage()
    message["From"], message["To"] = "app@example.com", "user@example.com"
    message["Subject"] = SUBJECTS["aiosmtplib"]
    message.set_content("Hello from aiosmtplib.")
    trust = {"cert_bundle": str(ca_file)} if ca_file else {}
    try:
        asyncio.run(aiosmtplib.send(message, hostname="localhost", port=port, **trust))
    except aiosmtplib.SMTPException as error:
        return subprocess.CompletedProcess(["aiosmtplib"], 1, "", str(error))
    return subprocess.CompletedProcess(["aiosmtplib"], 0, "sent", "")


def subjects(running: RunningSandbox) -> list[str]:
    summaries = running.sandbox.db.read_sync(lambda conn: messages.list_summaries(conn))
    return [summary.subject for summary in summaries]


@pytest.mark.parametrize("client", CLIENTS)
def test_default_settings_against_the_default_sandbox(running: RunningSandbox, client: str) -> None:
    result = send(client, running.smtp_port)
    assert result.returncode == 0, result.stderr
    assert subjects(running) == [SUBJECTS[client]]


@pytest.mark.parametrize("client", CLIENTS)
def test_trusting_the_generated_certificate_sends_over_verified_tls(
    sandbox_factory: Factory, client: str
) -> None:
    # --smtp-require-tls: a message can only have arrived after STARTTLS.
    running = sandbox_factory(smtp_tls="self-signed", smtp_require_tls=True)
    certificate = running.sandbox.tls_certificate
    assert certificate is not None
    result = send(client, running.smtp_port, certificate)
    assert result.returncode == 0, result.stderr
    assert subjects(running) == [SUBJECTS[client]]


def test_a_client_that_does_not_trust_the_certificate_fails(sandbox_factory: Factory) -> None:
    """Why STARTTLS is off unless asked for: default clients refuse a self-signed certificate."""
    running = sandbox_factory(smtp_tls="self-signed")
    result = send("nodemailer", running.smtp_port)
    assert result.returncode == 1
    assert "self-signed certificate" in result.stderr
    assert subjects(running) == []
