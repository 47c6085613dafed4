"""Deliverability lint: a corpus of good and bad messages with the findings each must give,
through SMTP and ``GET /api/v1/message/{ID}/lint``, and the Python client's ``msg.lint()``."""

from __future__ import annotations

import asyncio
import json
import smtplib
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path

import httpx
import pytest

from mailsandbox.client import AsyncClient, Client, Finding
from mailsandbox.client.fixture import SandboxInbox
from mailsandbox.runner import RunningSandbox

CORPUS = Path(__file__).with_name("lint_corpus")
EXPECTED: dict[str, list[list[str]]] = json.loads((CORPUS / "expected.json").read_text())


def deliver_file(running: RunningSandbox, path: Path) -> str:
    """Send a corpus file over SMTP, the envelope taken from its headers (Return-Path, else
    From; To), as the app that wrote it would send it."""
    raw = path.read_bytes()
    headers = BytesHeaderParser().parsebytes(raw)
    sender = parseaddr(headers.get("Return-Path") or headers["From"])[1]
    recipients = [a for _, a in getaddresses(headers.get_all("To") or []) if a]
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.sendmail(sender, recipients, raw)
    with httpx.Client(base_url=running.url) as api:
        newest: str = api.get("/api/v1/messages?limit=1").json()["messages"][0]["ID"]
    return newest


def test_corpus_lists_every_file() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.glob("*.eml"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus(name: str, running: RunningSandbox, api: httpx.Client) -> None:
    message_id = deliver_file(running, CORPUS / name)
    body = api.get(f"/api/v1/message/{message_id}/lint").json()
    got = [[f["ID"], f["Severity"]] for f in body["Findings"]]
    assert got == EXPECTED[name]
    assert body["Errors"] == sum(1 for _, s in got if s == "error")
    assert body["Warnings"] == sum(1 for _, s in got if s == "warning")
    for finding in body["Findings"]:
        assert finding["Title"] and finding["Why"] and finding["URL"].startswith("https://")


def test_bulk_reasons(running: RunningSandbox, api: httpx.Client) -> None:
    message_id = deliver_file(running, CORPUS / "bulk_without_unsubscribe.eml")
    body = api.get(f"/api/v1/message/{message_id}/lint").json()
    assert body["Bulk"] is True
    assert body["BulkReasons"] == ["List-Id header", "Precedence: bulk"]


def test_client_msg_lint(running: RunningSandbox) -> None:
    deliver_file(running, CORPUS / "good_transactional.eml")
    with Client(running.url) as sandbox:
        msg = sandbox.latest()
        assert msg.lint() == []
        assert not [f for f in msg.lint() if f.is_error]
    deliver_file(running, CORPUS / "bad_date_no_message_id.eml")
    with Client(running.url) as sandbox:
        msg = sandbox.wait_for(subject="Your order", timeout=5)
        findings = msg.lint()
        assert isinstance(findings[0], Finding)
        assert [str(f) for f in findings if f.is_error] == [
            "error: Date header is not an RFC 5322 date (date-malformed)"
        ]
        assert findings == sandbox.lint(msg.id)


def test_async_client_lint(running: RunningSandbox) -> None:
    deliver_file(running, CORPUS / "html_problems.eml")

    async def scenario() -> None:
        async with AsyncClient(running.url) as sandbox:
            msg = await sandbox.latest()
            findings = await sandbox.lint(msg)
            assert "tracking-pixel" in {f.id for f in findings}
            with pytest.raises(RuntimeError, match=r"await client\.lint"):
                msg.lint()

    asyncio.run(scenario())


def test_pytest_fixture_messages_lint(mailsandbox: SandboxInbox) -> None:
    """In a project's own suite: the ``mailsandbox`` fixture's messages lint themselves."""
    mailsandbox.send(
        "ann@example.com", "Welcome", "Hi Ann", headers={"Date": "Tue, 01 Dec 2026 10:00:00 +0000"}
    )
    msg = mailsandbox.wait_for(subject="Welcome", timeout=10)
    assert [f for f in msg.lint() if f.is_error] == []
    assert {f.id for f in msg.lint()} == {"message-id-missing"}  # the sandbox added one
