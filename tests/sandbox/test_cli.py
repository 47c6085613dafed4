"""The ``mailsandbox`` command end to end: ``serve`` as a child process, ``ingest``, ``--help``."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mailsandbox.config import setting_fields
from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from tests.sandbox.serve_process import start_serve

EML = b"From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: %s\r\n\r\nHello\r\n"


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mailsandbox", *args], input=stdin, capture_output=True, timeout=60
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_catches_mail_and_stops_cleanly(tmp_path: Path, stop_signal: int) -> None:
    server = start_serve(tmp_path / "cli.db", "--max-messages", "5")
    try:
        assert f"smtp://127.0.0.1:{server.smtp_port}" in server.banner
        assert f"http://127.0.0.1:{server.http_port}/api/v1/" in server.banner
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as client:
            client.sendmail("ann@example.com", ["bob@example.com"], EML % b"via serve")
        listing = httpx.get(f"{server.url}/api/v1/messages", timeout=10).json()
        assert [m["Subject"] for m in listing["messages"]] == ["via serve"]
        server.proc.send_signal(stop_signal)
        assert server.proc.wait(20) == 0
    finally:
        server.stop()
    assert (tmp_path / "cli.db").exists()


def test_help_documents_every_flag() -> None:
    top = run_cli("--help")
    assert top.returncode == 0
    assert b"serve" in top.stdout and b"ingest" in top.stdout
    serve_help = run_cli("serve", "--help").stdout.decode()
    for f in setting_fields():
        flag = "--" + f.name.replace("_", "-")
        assert flag in serve_help, flag
        assert f"MAILSANDBOX_{f.name.upper()}" in serve_help.replace("\n", "").replace(" ", "")
    ingest_help = run_cli("ingest", "--help").stdout.decode()
    for flag in ("--smtp", "--from", "--to", "FILE"):
        assert flag in ingest_help


def test_bad_flag_values_fail_with_a_message() -> None:
    result = run_cli("serve", "--smtp", "nonsense:port")
    assert result.returncode == 2
    assert b"HOST:PORT" in result.stderr


def test_bad_rules_file_or_retry_schedule_fail_without_a_traceback(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text("{not json")
    common = ("serve", "--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0")
    for extra in (("--rules-file", str(rules)), ("--webhook-retry-schedule", "1s,soon")):
        result = run_cli(*common, "--db", str(tmp_path / "x.db"), *extra)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(b"mailsandbox serve: ")
        assert b"Traceback" not in result.stderr


def test_ingest_files_and_stdin(tmp_path: Path, running: RunningSandbox) -> None:
    smtp = f"{running.smtp_host}:{running.smtp_port}"
    first, second = tmp_path / "one.eml", tmp_path / "two.eml"
    first.write_bytes(EML % b"file one")
    second.write_bytes((EML % b"file two").replace(b"\r\n", b"\n"))
    result = run_cli("ingest", str(first), str(second), "--smtp", smtp)
    assert result.returncode == 0, result.stderr
    assert b"delivered 2 message(s)" in result.stdout
    piped = run_cli("ingest", "-", "--smtp", smtp, "--to", "other@example.com", stdin=EML % b"pipe")
    assert piped.returncode == 0, piped.stderr
    summaries = running.sandbox.db.read_sync(lambda conn: messages.list_summaries(conn))
    by_subject = {s.subject: s for s in summaries}
    assert set(by_subject) == {"file one", "file two", "pipe"}
    assert by_subject["file one"].recipients == ["bob@example.com"]
    assert by_subject["pipe"].recipients == ["other@example.com"]
    assert by_subject["file one"].mail_from == "ann@example.com"


def test_ingest_errors(tmp_path: Path, running: RunningSandbox) -> None:
    nobody = tmp_path / "nobody.eml"
    nobody.write_bytes(b"Subject: to nobody\r\n\r\nx\r\n")
    smtp = f"{running.smtp_host}:{running.smtp_port}"
    result = run_cli("ingest", str(nobody), "--smtp", smtp)
    assert result.returncode == 1 and b"no recipients" in result.stderr
    missing = run_cli("ingest", str(tmp_path / "missing.eml"), "--smtp", smtp)
    assert missing.returncode == 1 and b"mailsandbox ingest:" in missing.stderr


def test_ingest_keeps_lines_that_start_with_a_dot(tmp_path: Path, running: RunningSandbox) -> None:
    """A bare-LF file (as editors save .eml files): its "."-lines arrive exactly as written."""
    lines = [
        b"From: ann@example.com", b"To: bob@example.com", b"Subject: dots", b"",
        b".hidden starts with a dot", b"..two dots", b".", b"a line. with a dot", b"...",
    ]  # fmt: skip
    eml = tmp_path / "dots.eml"
    eml.write_bytes(b"\n".join(lines) + b"\n")
    smtp = f"{running.smtp_host}:{running.smtp_port}"
    result = run_cli("ingest", str(eml), "--smtp", smtp)
    assert result.returncode == 0, result.stderr
    with httpx.Client(base_url=running.url, timeout=10) as api:
        (summary,) = api.get("/api/v1/messages").json()["messages"]
        raw = api.get(f"/api/v1/message/{summary['ID']}/raw").content
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert body == b"\r\n".join(lines[4:]) + b"\r\n"  # CRLF, as SMTP stores it; dots kept
