"""POP3 with a real client: Debian's fetchmail fetches, delivers and deletes (plain and STLS)."""

from __future__ import annotations

import email
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from mailsandbox.runner import RunningSandbox
from mailsandbox.smtp import tls
from tests.sandbox.pop3.test_pop3 import pop3_address, send
from tests.tools import require_program

Factory = Callable[..., RunningSandbox]


def fetch(
    tmp_path: Path, port: int, *, starttls: bool
) -> tuple[subprocess.CompletedProcess[str], list[Path]]:
    """Run fetchmail once against the sandbox, delivering each message to a file of its own."""
    fetchmail = require_program("fetchmail", "fetchmail")
    inbox = tmp_path / "delivered"
    inbox.mkdir()
    ssl = (
        f'sslproto "tls1.2+" sslcertck sslcertfile "{tmp_path / tls.CERT_FILE}"'
        if starttls
        else 'sslproto ""'
    )
    rcfile = tmp_path / "fetchmailrc"
    rcfile.write_text(
        "set no syslog\n"
        f"poll localhost port {port} protocol pop3 uidl\n"
        f'  user "ann" password "pop pass" is "{os.environ.get("USER", "root")}" here\n'
        f"  {ssl}\n"
        f"""  mda "/bin/sh -c 'cat > {inbox}/msg.$$'"\n"""
    )
    rcfile.chmod(0o600)  # fetchmail refuses a readable password file
    env = {**os.environ, "FETCHMAILHOME": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        [fetchmail, "-f", str(rcfile), "-v", "--nodetach", "--nosyslog"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    return result, sorted(inbox.iterdir())


def test_fetchmail_fetches_and_deletes(tmp_path: Path, sandbox_factory: Factory) -> None:
    running = sandbox_factory(pop3="127.0.0.1:0", pop3_auth=["ann:pop pass"])
    send(running, "Fetched one", "first\n")
    send(running, "Fetched two", "second\n.dot line\n")
    result, files = fetch(tmp_path, pop3_address(running)[1], starttls=False)
    assert result.returncode == 0, result.stdout + result.stderr
    fetched = {email.message_from_bytes(f.read_bytes())["Subject"]: f.read_bytes() for f in files}
    assert set(fetched) == {"Fetched one", "Fetched two"}
    assert b"\n.dot line\n" in fetched["Fetched two"].replace(b"\r\n", b"\n")
    # fetchmail deletes what it fetched (it does not keep by default): gone from the sandbox
    assert httpx.get(running.url + "/api/v1/messages").json()["total"] == 0


def test_fetchmail_over_stls_verifies_the_certificate(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    running = sandbox_factory(
        pop3="127.0.0.1:0", pop3_tls="self-signed", pop3_auth=["ann:pop pass"]
    )
    send(running, "Over TLS", "secret\n")
    result, files = fetch(tmp_path, pop3_address(running)[1], starttls=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "STLS" in result.stderr + result.stdout
    assert [email.message_from_bytes(f.read_bytes())["Subject"] for f in files] == ["Over TLS"]
