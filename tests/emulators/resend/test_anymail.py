"""PROOF against django-anymail's Resend backend and its tracking webhook view with signature
verification on (``RESEND_SIGNING_SECRET``, checked by the svix library), served by a real
Django server: sends with attachments, an inline image, tags, metadata and batches; every
event type POSTed, verified and parsed into ``anymail.signals.tracking`` events; the hard
bounce's address suppressed afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from anymail.message import AnymailMessage
from django.core.mail import get_connection
from django.test import override_settings

from mailsandbox.runner import RunningSandbox
from tests.emulators.anymail_tracking import Tracked, complete, send_with
from tests.emulators.resend.conftest import EMAIL_EVENTS, KEY
from tests.emulators.stored import listed, raw_message
from tests.waiting import eventually

pytestmark = pytest.mark.filterwarnings("ignore::Warning")
RECIPIENTS = {
    "ok@example.com": ["sent", "delivered"],
    "alice+bounce@example.com": ["sent", "bounced"],
    "bob+open@example.com": ["sent", "delivered", "opened"],
    "carol+click@example.com": ["sent", "delivered", "opened", "clicked"],
    "dave+complaint@example.com": ["sent", "delivered", "complained"],
    "frank@slow.example.com": ["sent", "deferred", "delivered"],
}


def anymail_settings(running: RunningSandbox, secret: str = "") -> dict[str, Any]:
    settings: dict[str, Any] = {"RESEND_API_KEY": KEY, "RESEND_API_URL": running.url + "/"}
    if secret:
        settings["RESEND_SIGNING_SECRET"] = secret
    return settings


def send(to: list[str], **attrs: Any) -> AnymailMessage:
    return send_with("anymail.backends.resend.EmailBackend", to, **attrs)


def test_tracking_through_anymail_with_signatures(
    sandbox_factory: Callable[..., RunningSandbox], django_url: str, tracked: Tracked
) -> None:
    running = sandbox_factory()
    headers = {"Authorization": f"Bearer {KEY}"}
    rule = {"recipient": "*@slow.example.com", "outcome": "deferred", "attempts": 1}
    assert httpx.post(f"{running.url}/api/v1/rules", json=rule).status_code == 200
    hook = httpx.post(f"{running.url}/webhooks", headers=headers, json={
        "endpoint": f"{django_url}/anymail/resend/tracking/", "events": EMAIL_EVENTS})  # fmt: skip
    secret = hook.json()["signing_secret"]
    with override_settings(ANYMAIL=anymail_settings(running, secret)):
        sent = {}
        for to in RECIPIENTS:
            status = send([to]).anymail_status
            assert status.status == {"queued"}, status.esp_response
            sent[to] = str(status.message_id)
        for to, types in RECIPIENTS.items():
            tracked.wait(complete(sent[to], {to: types}), timeout=20)
        again = str(send(["alice+bounce@example.com"]).anymail_status.message_id)
        found = tracked.wait(complete(again, {"alice+bounce@example.com": ["sent", "bounced"]}))
    events = {(e.message_id, e.event_type): e for e in found}
    for event in found:
        assert event.tags == ["welcome"] and event.metadata == {"order": "42"}
        assert event.event_id and event.event_id.startswith("msg_")
    assert len({e.event_id for e in found}) == len(found)
    bounce = events[(sent["alice+bounce@example.com"], "bounced")]
    assert bounce.reject_reason == "bounced"
    assert events[(again, "bounced")].reject_reason == "blocked"  # "suppressed sending"
    click = events[(sent["carol+click@example.com"], "clicked")]
    assert click.click_url == "https://example.com/" and click.user_agent


def test_a_wrong_secret_is_refused(
    sandbox_factory: Callable[..., RunningSandbox], django_url: str, tracked: Tracked
) -> None:
    running = sandbox_factory()
    headers = {"Authorization": f"Bearer {KEY}"}
    endpoint = f"{django_url}/anymail/resend/tracking/"
    hook = {"endpoint": endpoint, "events": ["email.sent"]}
    assert httpx.post(f"{running.url}/webhooks", headers=headers, json=hook).status_code == 200
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    with override_settings(ANYMAIL=anymail_settings(running, other)):
        send(["ok@example.com"])

        def refused() -> bool:
            rows = httpx.get(f"{running.url}/api/v1/webhooks/deliveries").json()["deliveries"]
            return any(row["Status"] == 400 for row in rows)

        eventually(refused)
    assert tracked.events == []


def test_backend_sends_attachments_and_batches(running: RunningSandbox, api: httpx.Client) -> None:
    with override_settings(ANYMAIL=anymail_settings(running)):
        message = AnymailMessage(
            "Invoice", "See attached", "shop@example.com", ["ann@example.com"],
            connection=get_connection("anymail.backends.resend.EmailBackend"),
        )  # fmt: skip
        cid = message.attach_inline_image(b"\x89PNG\r\n\x1a\n" + bytes(32), "logo.png")
        message.attach_alternative(f'<p>Logo <img src="cid:{cid}"></p>', "text/html")
        message.attach("invoice.pdf", b"%PDF-1.4", "application/pdf")
        message.metadata = {"invoice": "9"}
        message.send()
        assert message.anymail_status.status == {"queued"}
        batch = send(["bob@example.com", "cy@example.com"], merge_data={
            "bob@example.com": {}, "cy@example.com": {}},
            merge_metadata={"bob@example.com": {"who": "bob"}})  # fmt: skip
        statuses = batch.anymail_status.recipients
    assert {r.status for r in statuses.values()} == {"queued"}
    assert statuses["bob@example.com"].message_id != statuses["cy@example.com"].message_id
    first, *others = listed(api)
    parsed = raw_message(api, first["ID"])
    files = {p.get_filename(): p for p in parsed.walk() if p.get_filename()}
    assert files["invoice.pdf"].get_payload(decode=True) == b"%PDF-1.4"
    assert files["logo.png"]["Content-ID"] == f"<{cid}>"
    assert parsed["X-Metadata"] == '{"invoice": "9"}'
    assert sorted(m["To"][0]["Address"] for m in others) == ["bob@example.com", "cy@example.com"]
