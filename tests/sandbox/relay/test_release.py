"""Release and auto-relay to a second SMTP server (a plain aiosmtpd sink started by the test)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.sandbox.relay.sink import Sink, smtp_sink
from tests.waiting import eventually

Factory = Callable[..., RunningSandbox]


def send(running: RunningSandbox, to: str = "ann@example.com", bcc: str = "") -> str:
    """A message over SMTP (``bcc`` only in the envelope); returns its id."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "App <app@example.com>", to, "Your order"
    msg.set_content("Order 1234 has shipped.\n")
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.send_message(msg, to_addrs=[to, *([bcc] if bcc else [])])
    with httpx.Client(base_url=running.url, timeout=30) as api:
        found = api.get("/api/v1/search", params={"query": f"to:{to}"}).json()
    return str(found["messages"][0]["ID"])


def relay_flags(sink: Sink, **extra: str) -> dict[str, str]:
    return {"relay_host": f"{sink.host}:{sink.port}", **extra}


def test_webui_advertises_the_relay_as_configured(sandbox_factory: Factory) -> None:
    off = httpx.get(sandbox_factory().url + "/api/v1/webui").json()["MessageRelay"]
    on_sandbox = sandbox_factory(
        relay_host="smtp.example.com:587",
        relay_from="bounces@example.com",
        relay_allow="@example\\.com$",
    )
    on = httpx.get(on_sandbox.url + "/api/v1/webui").json()["MessageRelay"]
    keys = ["Enabled", "SMTPServer", "ReturnPath", "AllowedRecipients", "BlockedRecipients",
            "OverrideFrom", "PreserveMessageIDs", "RecipientAllowlist"]  # fmt: skip
    assert list(off) == keys and list(on) == keys
    assert off["Enabled"] is False and off["SMTPServer"] == "" and off["AllowedRecipients"] == ""
    assert on == {
        "Enabled": True,
        "SMTPServer": "smtp.example.com:587",
        "ReturnPath": "bounces@example.com",
        "AllowedRecipients": "@example\\.com$",
        "BlockedRecipients": "",
        "OverrideFrom": "",
        "PreserveMessageIDs": False,
        "RecipientAllowlist": "@example\\.com$",
    }


def test_release_sends_a_copy_without_bcc_and_keeps_the_stored_one(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    with smtp_sink(tmp_path) as sink:
        running = sandbox_factory(**relay_flags(sink))
        message_id = send(running, bcc="hidden@example.com")
        api = httpx.Client(base_url=running.url, timeout=30)
        stored_before = api.get(f"/api/v1/message/{message_id}/raw").content
        assert b"Bcc: hidden@example.com" in stored_before

        reply = api.post(f"/api/v1/message/{message_id}/release",
                         json={"To": ["Bob <bob@example.org>", "carol@example.org"]})  # fmt: skip
        assert (reply.status_code, reply.text) == (200, "ok")
        assert reply.headers["content-type"].startswith("text/plain")

        assert len(sink.messages) == 1
        got = sink.messages[0]
        assert got.rcpt_tos == ["bob@example.org", "carol@example.org"]
        assert got.mail_from == "app@example.com"  # the message's own envelope sender
        sent = message_from_bytes(got.data)
        stored = message_from_bytes(stored_before)
        assert sent["Bcc"] is None and sent["Return-Path"] is None
        assert sent["Subject"] == "Your order" and sent["To"] == "ann@example.com"
        assert sent["Message-ID"] != stored["Message-ID"]  # a release is a new message upstream
        assert sent.get_payload() == stored.get_payload()
        assert api.get(f"/api/v1/message/{message_id}/raw").content == stored_before

        history = api.get(f"/api/v1/message/{message_id}/releases").json()["releases"]
        assert len(history) == 1
        assert history[0]["OK"] is True and history[0]["Trigger"] == "release"
        assert history[0]["Recipients"] == ["bob@example.org", "carol@example.org"]
        assert history[0]["Reply"] == "250 2.0.0 Ok: queued as SINK42"
        assert history[0]["Server"] == f"127.0.0.1:{sink.port}"
        # No new message in the sandbox, and the page shows the release
        assert api.get("/api/v1/messages").json()["total"] == 1
        page = api.get(f"/view/{message_id}").text
        assert "queued as SINK42" in page and "bob@example.org" in page


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_release_over_tls_with_auth(tmp_path: Path, sandbox_factory: Factory, mode: str) -> None:
    with smtp_sink(tmp_path, tls_mode=mode, login=("relayuser", "s3cret:x")) as sink:
        assert sink.certificate is not None
        running = sandbox_factory(
            relay_host=f"localhost:{sink.port}",
            relay_tls=mode,
            relay_tls_ca=str(sink.certificate),  # verified against it, for the name localhost
            relay_auth="relayuser:s3cret:x",
            relay_from="bounces@example.com",
        )
        message_id = send(running)
        reply = httpx.post(f"{running.url}/api/v1/message/{message_id}/release",
                           json={"to": ["bob@example.org"]})  # fmt: skip
        assert (reply.status_code, reply.text) == (200, "ok")
        got = sink.messages[0]
        assert (got.user, got.tls, got.mail_from) == ("relayuser", True, "bounces@example.com")


def test_tls_errors_and_wrong_passwords_are_shown(tmp_path: Path, sandbox_factory: Factory) -> None:
    with smtp_sink(tmp_path, tls_mode="starttls", login=("relayuser", "right")) as sink:
        untrusted = sandbox_factory(relay_host=f"localhost:{sink.port}", relay_tls="starttls")
        message_id = send(untrusted)
        reply = httpx.post(f"{untrusted.url}/api/v1/message/{message_id}/release",
                           json={"To": ["bob@example.org"]})  # fmt: skip
        assert reply.status_code == 400
        assert reply.text.startswith("SMTP error: ") and "CERTIFICATE_VERIFY_FAILED" in reply.text

        assert sink.certificate is not None
        wrong = sandbox_factory(
            relay_host=f"localhost:{sink.port}", relay_tls="starttls",
            relay_tls_ca=str(sink.certificate), relay_auth="relayuser:wrong",
        )  # fmt: skip
        message_id = send(wrong)
        reply = httpx.post(f"{wrong.url}/api/v1/message/{message_id}/release",
                           json={"To": ["bob@example.org"]})  # fmt: skip
        assert reply.status_code == 400 and reply.text.startswith("SMTP error: AUTH: 535")
        assert sink.messages == []


def test_recipients_outside_relay_allow_are_refused(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    with smtp_sink(tmp_path) as sink:
        running = sandbox_factory(**relay_flags(sink, relay_allow="@mycompany\\.com$"))
        message_id = send(running)
        url = f"{running.url}/api/v1/message/{message_id}/release"
        one = httpx.post(url, json={"To": ["a@mycompany.com", "Eve <eve@gmail.com>"]})
        assert (one.status_code, one.text) == (
            400, "Failed: 1 Address do not match the allowlist: Eve <eve@gmail.com>")  # fmt: skip
        two = httpx.post(url, json={"To": ["x@gmail.com", "y@mycompany.com.evil.net"]})
        assert two.text == (
            "Failed: 2 Addresses do not match the allowlist: x@gmail.com, y@mycompany.com.evil.net"
        )
        assert sink.messages == []
        assert httpx.get(f"{running.url}/api/v1/message/{message_id}/releases").json() == {
            "releases": []
        }
        assert httpx.post(url, json={"To": ["a@mycompany.com"]}).status_code == 200
        assert sink.messages[0].rcpt_tos == ["a@mycompany.com"]


def test_an_upstream_550_is_shown_on_the_message(tmp_path: Path, sandbox_factory: Factory) -> None:
    with smtp_sink(tmp_path, refuse={"gone@example.org"}) as sink:
        running = sandbox_factory(**relay_flags(sink))
        message_id = send(running)
        reply = httpx.post(f"{running.url}/api/v1/message/{message_id}/release",
                           json={"To": ["bob@example.org", "gone@example.org"]})  # fmt: skip
        assert reply.status_code == 400
        assert reply.text == (
            "SMTP error: RCPT TO:<gone@example.org>: 550 5.1.1 <gone@example.org>: Recipient"
            " address rejected: User unknown"
        )
        assert sink.messages == []  # all or nothing: bob did not get it either
        history = httpx.get(f"{running.url}/api/v1/message/{message_id}/releases").json()
        assert history["releases"][0]["OK"] is False
        assert "550 5.1.1" in history["releases"][0]["Reply"]
        page = httpx.get(f"{running.url}/view/{message_id}").text
        assert "failed" in page and "Recipient address rejected: User unknown" in page


def test_release_request_errors(tmp_path: Path, sandbox_factory: Factory) -> None:
    with smtp_sink(tmp_path) as sink:
        running = sandbox_factory(**relay_flags(sink))
        message_id = send(running)
        url = f"{running.url}/api/v1/message/{message_id}/release"
        cases = [
            ({"To": ["not an address"]}, "Invalid email address: not an address"),
            ({"To": []}, "No valid addresses found"),
            ({}, "No valid addresses found"),
            ({"To": "bob@example.org"}, "json: cannot unmarshal To into []string"),
        ]
        for body, text in cases:
            reply = httpx.post(url, json=body)
            assert (reply.status_code, reply.text) == (400, text), body
        assert httpx.post(url, content=b"").text == "EOF"
        missing = httpx.post(f"{running.url}/api/v1/message/nope/release", json={"To": ["a@b.c"]})
        assert missing.status_code == 404
        assert sink.messages == []


def test_release_without_a_relay_is_a_400(sandbox_factory: Factory) -> None:
    running = sandbox_factory()
    message_id = send(running)
    reply = httpx.post(f"{running.url}/api/v1/message/{message_id}/release",
                       json={"To": ["bob@example.org"]})  # fmt: skip
    assert reply.status_code == 400 and "--relay-host" in reply.text
    page = httpx.get(f"{running.url}/view/{message_id}").text
    assert "--relay-host HOST:PORT" in page and 'id="release-to"' not in page


def test_auto_relay_sends_matching_mail_to_allowed_recipients(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    with smtp_sink(tmp_path) as sink:
        running = sandbox_factory(
            **relay_flags(sink, relay_match="to:@mycompany.com", relay_allow="@mycompany\\.com$")
        )
        relayed = send(running, to="dev@mycompany.com", bcc="customer@gmail.com")
        send(running, to="someone@example.org")
        received = eventually(lambda: sink.messages)
        assert len(received) == 1
        assert received[0].rcpt_tos == ["dev@mycompany.com"]  # not the customer: not allowed
        sent = message_from_bytes(received[0].data)
        stored = message_from_bytes(
            httpx.get(f"{running.url}/api/v1/message/{relayed}/raw").content
        )
        assert sent["Message-ID"] == stored["Message-ID"] and sent["Bcc"] is None
        history = eventually(
            lambda: httpx.get(f"{running.url}/api/v1/message/{relayed}/releases").json()["releases"]
        )
        assert history[0]["Trigger"] == "auto" and history[0]["OK"] is True


def test_relay_flags_that_cannot_work_are_refused(sandbox_factory: Factory) -> None:
    cases = [
        ({"relay_allow": "x"}, "--relay-allow needs --relay-host"),
        ({"relay_host": "smtp.example.com"}, "--relay-host: expected HOST:PORT"),
        ({"relay_host": "h:25", "relay_tls": "ssl"}, "--relay-tls is none, starttls or tls"),
        ({"relay_host": "h:25", "relay_allow": "("}, "--relay-allow: bad regular expression"),
        ({"relay_host": "h:25", "relay_match": " "}, ""),  # blank: no auto-relay, fine
    ]
    for flags, text in cases:
        if not text:
            sandbox_factory(**flags)
            continue
        with pytest.raises(ValueError, match=text):
            sandbox_factory(**flags)


def test_the_release_button_sends_and_shows_the_outcome(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    with smtp_sink(tmp_path, refuse={"gone@example.org"}) as sink:
        running = sandbox_factory(**relay_flags(sink))
        message_id = send(running, to="ann@example.com")
        api = httpx.Client(base_url=running.url, timeout=30)
        page = api.get(f"/view/{message_id}").text
        assert 'id="release-to"' in page and 'value="ann@example.com"' in page
        url = f"/ui/message/{message_id}/release"
        htmx = {"HX-Request": "true"}

        panel = api.post(url, data={"to": "bob@example.org; carol@example.org"}, headers=htmx)
        assert panel.status_code == 200
        assert "Released to bob@example.org; carol@example.org" in panel.text
        assert sink.messages[0].rcpt_tos == ["bob@example.org", "carol@example.org"]

        failed = api.post(url, data={"to": "gone@example.org"}, headers=htmx)
        assert "Not released: SMTP error: RCPT TO:&lt;gone@example.org&gt;: 550" in failed.text
        plain = api.post(url, data={"to": "bob@example.org"}, follow_redirects=False,
                         headers={"Origin": running.url})  # fmt: skip
        assert (plain.status_code, plain.headers["location"]) == (303, f"/view/{message_id}")
        foreign = api.post(url, data={"to": "bob@example.org"},
                           headers={"Origin": "http://evil.example"})  # fmt: skip
        assert foreign.status_code == 403
        assert len(sink.messages) == 2
