"""Inboxes chosen by rule: the rule language, the order of precedence, the API and the UI."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from mailsandbox.inbox_rules import Facts, InboxRule, InboxRuleError, InboxRules
from mailsandbox.mime import parse_message
from mailsandbox.runner import RunningSandbox, start_in_thread
from tests.conftest import make_settings

Factory = Callable[..., RunningSandbox]


def facts(raw: bytes, mail_from: str = "", rcpt_tos: list[str] | None = None) -> Facts:
    return Facts(raw, parse_message(raw), mail_from, rcpt_tos or [])


def test_the_rule_language() -> None:
    rule = InboxRule.parse(" To:*@Tenant-A.test = tenant-a ")
    assert (rule.field, rule.pattern, rule.inbox, rule.text) == (
        "to", "*@Tenant-A.test", "tenant-a", "to:*@Tenant-A.test=tenant-a")  # fmt: skip
    assert InboxRule.parse("x-key:a=b=c").pattern == "a=b"  # the inbox follows the last "="
    for bad in ("to:*@x", "=inbox", "to=inbox", ":x=y", "to:=y", "to:x=", f"to:x={'i' * 101}"):
        with pytest.raises(InboxRuleError):
            InboxRule.parse(bad)

    raw = (b"From: Shop <shop@store.test>\r\nTo: ann@example.com\r\nCc: Bob <bob@TENANT-A.test>"
           b"\r\nX-Tenant: =?utf-8?q?b=C3=A9ta?=\r\nSubject: Invoice 7\r\n\r\nHi\r\n")  # fmt: skip
    rules = InboxRules(
        InboxRule.parse(text)
        for text in ("x-tenant:bé*=beta", "to:*@tenant-a.test=tenant-a", "from:*@store.test=shop")
    )
    assert rules.choose(facts(raw)) == "beta"  # the first that matches; header values decoded
    assert InboxRules(rules.rules[1:]).choose(facts(raw)) == "tenant-a"  # a Cc address, any case
    assert InboxRules(rules.rules[2:]).choose(facts(raw)) == "shop"
    plain = b"From: a@b.test\r\nTo: c@d.test\r\n\r\nx\r\n"
    assert InboxRules(rules.rules[1:2]).choose(facts(plain, rcpt_tos=["z@tenant-a.test"])) == (
        "tenant-a"  # an envelope-only recipient counts too
    )
    assert InboxRules(rules.rules[2:]).choose(facts(plain, mail_from="bounce@store.test")) == "shop"
    assert rules.choose(facts(plain)) is None


def send(running: RunningSandbox, to: str, *, login: str = "", **headers: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "app@example.com", to, f"to {to}"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("hello\n")
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        if login:
            client.login(login, "x")
        client.send_message(msg)


def inboxes(api: httpx.Client) -> dict[str, int]:
    return {i["Name"]: i["Messages"] for i in api.get("/api/v1/inboxes").json()["inboxes"]}


def test_header_then_credentials_then_rules_then_default(sandbox_factory: Factory) -> None:
    running = sandbox_factory(inbox_rule=["to:*@tenant-a.test=tenant-a", "x-tenant:b*=tenant-b"])
    api = httpx.Client(base_url=running.url, timeout=30)
    send(running, "ann@tenant-a.test")  # a rule
    send(running, "bob@example.com", X_Tenant="bravo")  # a header rule
    send(running, "cat@tenant-a.test", X_Sandbox_Inbox="explicit")  # the header wins
    send(running, "dan@tenant-a.test", login="app")  # credentials win over rules
    send(running, "eve@example.com")  # nothing matches
    sendgrid = httpx.post(running.url + "/v3/mail/send", json={
        "personalizations": [{"to": [{"email": "fay@tenant-a.test"}]}],
        "from": {"email": "app@example.com"}, "subject": "to fay@tenant-a.test",
        "content": [{"type": "text/plain", "value": "hi"}],
    })  # fmt: skip
    assert sendgrid.status_code == 202  # no API key: no credentials, so the rules decide
    assert inboxes(api) == {"tenant-a": 2, "tenant-b": 1, "explicit": 1, "app": 1, "default": 1}
    found = api.get("/api/v1/search", params={"query": "inbox:tenant-a"}).json()["messages"]
    assert {m["To"][0]["Address"] for m in found} == {"ann@tenant-a.test", "fay@tenant-a.test"}


def test_rules_through_the_api(tmp_path: Path, sandbox_factory: Factory) -> None:
    running = sandbox_factory(inbox_rule=["to:*@tenant-a.test=tenant-a"])
    api = httpx.Client(base_url=running.url, timeout=30)
    added = api.post("/api/v1/inbox-rules", json={"Rule": "to:*@tenant-b.test=tenant-b"})
    assert added.status_code == 200
    rule = added.json()
    assert rule["Rule"] == "to:*@tenant-b.test=tenant-b" and rule["Origin"] == "api" and rule["ID"]
    listed = api.get("/api/v1/inbox-rules").json()["rules"]
    assert [(r["Rule"], r["Origin"]) for r in listed] == [
        ("to:*@tenant-a.test=tenant-a", "flag"),
        ("to:*@tenant-b.test=tenant-b", "api"),
    ]
    send(running, "x@tenant-b.test")
    assert inboxes(api) == {"tenant-b": 1}
    bad = api.post("/api/v1/inbox-rules", json={"Rule": "to:nothing"})
    assert bad.status_code == 400 and "FIELD:PATTERN=INBOX" in bad.json()["Error"]
    assert api.post("/api/v1/inbox-rules", json={"Rule": 7}).status_code == 400
    assert api.delete("/api/v1/inbox-rules/nope").status_code == 404

    running.stop()  # stored: still in force after a restart
    again = start_in_thread(make_settings(tmp_path, inbox_rule=["to:*@tenant-a.test=tenant-a"]))
    try:
        api2 = httpx.Client(base_url=again.url, timeout=30)
        assert [r["ID"] for r in api2.get("/api/v1/inbox-rules").json()["rules"]] == [
            "",
            rule["ID"],
        ]
        assert api2.delete(f"/api/v1/inbox-rules/{rule['ID']}").text == "ok"
        send(again, "y@tenant-b.test")
        assert inboxes(api2) == {"tenant-b": 1, "default": 1}
    finally:
        again.stop()


def test_the_inboxes_page(sandbox_factory: Factory) -> None:
    running = sandbox_factory(inbox_rule=["to:*@tenant-a.test=tenant-a"])
    send(running, "ann@tenant-a.test")
    ui = httpx.Client(base_url=running.url, timeout=30, headers={"Origin": running.url})
    page = ui.get("/ui/inboxes").text
    assert 'href="/?inbox=tenant-a"' in page and "--inbox-rule" in page
    refused = ui.post("/ui/inboxes/rules", data={"rule": "nonsense"})
    assert refused.status_code == 400 and "expected FIELD:PATTERN=INBOX" in refused.text
    added = ui.post("/ui/inboxes/rules", data={"rule": "subject:*invoice*=billing"})
    assert added.status_code == 303
    rule_id = ui.get("/api/v1/inbox-rules").json()["rules"][1]["ID"]
    assert "subject:*invoice*=billing" in ui.get("/ui/inboxes").text.replace("</code>", "")
    foreign = ui.post(f"/ui/inboxes/rules/{rule_id}/delete", headers={"Origin": "http://evil.test"})
    assert foreign.status_code == 403
    assert ui.post(f"/ui/inboxes/rules/{rule_id}/delete").status_code == 303
    assert len(ui.get("/api/v1/inbox-rules").json()["rules"]) == 1


def test_a_bad_inbox_rule_flag_is_refused(sandbox_factory: Factory) -> None:
    with pytest.raises(ValueError, match="expected FIELD:PATTERN=INBOX"):
        sandbox_factory(inbox_rule=["to:*@x.test"])
