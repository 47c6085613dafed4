"""Every Resend email event POSTed to real local endpoints, Svix-signed: webhooks created
through the SDK (each with its own ``whsec_`` secret) and by flag (the account secret given by
``--resend-webhook-secret``); signatures checked with the svix library and the resend SDK's own
verifier; the test addresses of ``resend.dev``; a hard bounce puts the address on the list, so
the next send to it bounces as suppressed."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import resend
from svix.webhooks import Webhook

from mailsandbox.runner import RunningSandbox
from tests.emulators.resend.conftest import EMAIL_EVENTS, KEY, email
from tests.sandbox.events.receiver import Received, Receiver
from tests.waiting import eventually

FLAG_SECRET = "whsec_" + base64.b64encode(b"mailsandbox-resend-test-1").decode()
MAGIC = {
    "ok@example.com": ["email.sent", "email.delivered"],
    "alice+bounce@example.com": ["email.sent", "email.bounced"],
    "bob+open@example.com": ["email.sent", "email.delivered", "email.opened"],
    "carol+click@example.com": ["email.sent", "email.delivered", "email.opened", "email.clicked"],
    "dave+complaint@example.com": ["email.sent", "email.delivered", "email.complained"],
    "frank@slow.example.com": ["email.sent", "email.delivery_delayed", "email.delivered"],
    "delivered@resend.dev": ["email.sent", "email.delivered"],
    "bounced+x@resend.dev": ["email.sent", "email.bounced"],
    "complained@resend.dev": ["email.sent", "email.delivered", "email.complained"],
}


def verified(request: Received, secret: str) -> dict[str, Any]:
    """The payload, checked with the svix library and with resend.Webhooks.verify."""
    Webhook(secret).verify(request.body, request.headers)  # raises unless signed with secret
    payload: dict[str, Any] = request.json()
    headers = {"id": request.headers["svix-id"], "timestamp": request.headers["svix-timestamp"],
               "signature": request.headers["svix-signature"]}  # fmt: skip
    checked = resend.Webhooks.verify(
        {"payload": request.body.decode(), "headers": headers, "webhook_secret": secret}
    )
    assert checked["type"] == payload["type"]
    return payload


def types_by_recipient(payloads: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for payload in payloads:
        out.setdefault(payload["data"]["to"][0], []).append(payload["type"])
    return out


def test_every_event_signed_and_suppression(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    with Receiver() as api_hook, Receiver() as flag_hook:
        running = sandbox_factory(
            resend_webhook_url=[f"{flag_hook.url}/flag"], resend_webhook_secret=FLAG_SECRET
        )
        resend.api_url, resend.api_key = running.url, KEY
        http = httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {KEY}"})
        rule = {"recipient": "*@slow.example.com", "outcome": "deferred", "attempts": 1}
        assert http.post("/api/v1/rules", json=rule).status_code == 200
        created = resend.Webhooks.create(
            {"endpoint": f"{api_hook.url}/resend", "events": EMAIL_EVENTS}
        )
        secret = created["signing_secret"]
        assert secret.startswith("whsec_") and secret != FLAG_SECRET
        assert resend.Webhooks.get(created["id"])["signing_secret"] == secret
        assert [w["id"] for w in resend.Webhooks.list()["data"]] == [created["id"]]

        ids = {}
        for to in MAGIC:
            ids[to] = resend.Emails.send(email(
                to=[to], html='<a href="https://example.com/go">go</a>',
                headers={"X-Entity-Ref-ID": "ref-1"}, tags=[{"name": "kind", "value": "test"}],
            ))["id"]  # fmt: skip
        expected = sum(len(types) for types in MAGIC.values())
        from_api = [verified(r, secret) for r in api_hook.wait_for(expected)]
        from_flag = [verified(r, FLAG_SECRET) for r in flag_hook.wait_for(expected)]
        for payloads in (from_api, from_flag):
            found = types_by_recipient(payloads)
            for to, types in MAGIC.items():
                assert sorted(found[to]) == sorted(types), to
        for request in api_hook.requests:
            assert request.headers["svix-id"].startswith("msg_")
        by_type = {(p["data"]["to"][0], p["type"]): p for p in from_api}
        sent = by_type[("ok@example.com", "email.sent")]
        assert sent["data"]["email_id"] == ids["ok@example.com"]
        assert sent["data"]["from"] == "Shop <shop@example.com>"
        assert sent["data"]["tags"] == {"kind": "test"} and sent["data"]["subject"] == "Hello"
        assert {"name": "X-Entity-Ref-ID", "value": "ref-1"} in sent["data"]["headers"]
        bounce = by_type[("alice+bounce@example.com", "email.bounced")]["data"]["bounce"]
        assert (bounce["type"], bounce["subType"]) == ("Permanent", "General")
        click = by_type[("carol+click@example.com", "email.clicked")]["data"]["click"]
        assert click["link"] == "https://example.com/" and click["ipAddress"]

        again = resend.Emails.send(email(to=["alice+bounce@example.com"]))["id"]

        def suppressed() -> dict[str, Any]:
            found = [verified(r, secret) for r in api_hook.requests]
            match = {p["type"]: p for p in found if p["data"]["email_id"] == again}
            # (two POSTs per endpoint may be in flight: they can arrive in either order)
            assert sorted(match) == ["email.bounced", "email.sent"], match
            return match["email.bounced"]

        bounced = eventually(suppressed)
        assert bounced["data"]["bounce"]["subType"] == "Suppressed"
        assert resend.Emails.get(again)["last_event"] == "suppressed"

        resend.Webhooks.update({"webhook_id": created["id"], "status": "disabled"})
        assert resend.Webhooks.get(created["id"])["status"] == "disabled"
        removed = resend.Webhooks.remove(created["id"])
        assert removed["deleted"] is True and resend.Webhooks.list()["data"] == []
        http.close()
