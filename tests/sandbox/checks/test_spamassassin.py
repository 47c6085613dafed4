"""Spam score (Mailpit's sa-check) through a real SpamAssassin spamd started by the test."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mailsandbox.checks import spamassassin
from mailsandbox.runner import RunningSandbox
from tests.sandbox.checks.conftest import deliver
from tests.sandbox.serve_process import free_port
from tests.waiting import eventually

BARE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello there\r\n"
WEBUI_KEYS = [
    "Label", "MessageRelay", "SpamAssassin", "ChaosEnabled", "DuplicatesIgnored",
    "HideDeleteAllButton",
]  # fmt: skip


def test_score_and_rules_from_spamd(
    spamd: str, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    running = sandbox_factory(spamassassin=spamd)
    message_id = deliver(running, BARE)
    with httpx.Client(base_url=running.url, timeout=60) as api:
        webui = api.get("/api/v1/webui").json()
        assert list(webui) == WEBUI_KEYS and webui["SpamAssassin"] is True
        result = api.get(f"/api/v1/message/{message_id}/sa-check")
        assert result.status_code == 200
        body = result.json()
        assert list(body) == ["IsSpam", "Error", "Score", "Rules"]
        assert body["Error"] == "" and body["IsSpam"] is False
        names = {rule["Name"]: rule for rule in body["Rules"]}
        # spamd's own verdict on a message with no Date header (Debian's rules, --local)
        assert names["MISSING_DATE"]["Description"] == "Missing Date: header"
        assert names["MISSING_DATE"]["Score"] > 0
        assert all(list(rule) == ["Score", "Name", "Description"] for rule in body["Rules"])
        assert body["Score"] == pytest.approx(sum(r["Score"] for r in body["Rules"]), abs=0.15)
        again = api.get("/api/v1/message/latest/sa-check").json()
        assert "MISSING_DATE" in {rule["Name"] for rule in again["Rules"]}
        assert api.get("/api/v1/message/nope/sa-check").status_code == 404


def test_spamd_unreachable_is_still_200(
    sandbox_factory: Callable[..., RunningSandbox], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    running = sandbox_factory(spamassassin=f"127.0.0.1:{port}")
    # warned at start, in the background
    eventually(lambda: f"spamd at 127.0.0.1:{port} does not answer PING" in caplog.text)
    message_id = deliver(running, BARE)
    body = httpx.get(f"{running.url}/api/v1/message/{message_id}/sa-check", timeout=30).json()
    assert body == {
        "IsSpam": False,
        "Error": f"dial tcp 127.0.0.1:{port}: connect: connection refused",
        "Score": 0,
        "Rules": None,
    }


def test_disabled_without_the_flag(running: RunningSandbox) -> None:
    message_id = deliver(running, BARE)
    with httpx.Client(base_url=running.url) as api:
        assert api.get("/api/v1/webui").json()["SpamAssassin"] is False
        response = api.get(f"/api/v1/message/{message_id}/sa-check")
        assert response.status_code == 404
        assert "--spamassassin" in response.json()["Error"]


def test_report_parsing() -> None:
    reply = (
        "SPAMD/1.1 0 EX_OK\r\nContent-length: 400\r\nSpam: True ; 7.3 / 5.0\r\n\r\n"
        "Content analysis details:   (7.3 points, 5.0 required)\n\n"
        " pts rule name              description\n"
        "---- ---------------------- --------------------------------------------------\n"
        " 2.3 MISSING_DATE           Missing Date: header\n"
        " 5.0 LONG_RULE              A description that is long enough to be\n"
        "                            continued on the next line\n"
        "-0.0 NO_RELAYS              Informational: message was not relayed via SMTP\n"
    )
    assert spamassassin.parse_report(reply) == {
        "IsSpam": True,
        "Error": "",
        "Score": 7.3,
        "Rules": [
            {"Score": 2.3, "Name": "MISSING_DATE", "Description": "Missing Date: header"},
            {"Score": 5.0, "Name": "LONG_RULE",
             "Description": "A description that is long enough to be continued on the next line"},
            {"Score": -0.0, "Name": "NO_RELAYS",
             "Description": "Informational: message was not relayed via SMTP"},
        ],
    }  # fmt: skip


def test_bad_flag_value() -> None:
    from mailsandbox.config import Settings

    with pytest.raises(ValueError, match="--spamassassin"):
        Settings.from_env(environ={}, spamassassin="localhost:notaport")
