"""PROOF against django-anymail's Postmark backend and its tracking webhook view, served by a
real Django server: sends with attachments, an inline image, tags, metadata and templates
(single and batch); every event type POSTed to the view (Basic auth from the webhook URL, as
anymail's WEBHOOK_SECRET wants) and parsed into ``anymail.signals.tracking`` events; a hard
bounce deactivates the address, so the next send reports it rejected."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from anymail.message import AnymailMessage
from django.core.mail import get_connection
from django.test import override_settings

from mailsandbox.runner import RunningSandbox
from tests.emulators.anymail_tracking import Tracked, complete, send_with
from tests.emulators.postmark.conftest import HEADERS, TOKEN
from tests.emulators.stored import listed, raw_message

pytestmark = pytest.mark.filterwarnings("ignore::Warning")
SECRET = "hook:s3cret"
RECIPIENTS = {
    "ok@example.com": ["delivered"],
    "alice+bounce@example.com": ["bounced"],
    "bob+open@example.com": ["delivered", "opened"],
    "carol+click@example.com": ["delivered", "opened", "clicked"],
    "dave+complaint@example.com": ["delivered", "complained"],
    "erin+unsubscribe@example.com": ["delivered", "unsubscribed"],
    "frank@slow.example.com": ["deferred", "delivered"],
    "gina+reject@example.com": ["rejected"],
}


def anymail_settings(running: RunningSandbox) -> dict[str, Any]:
    return {
        "POSTMARK_SERVER_TOKEN": TOKEN,
        "POSTMARK_API_URL": running.url + "/",
        "WEBHOOK_SECRET": SECRET,
    }


def send(to: list[str], **attrs: Any) -> AnymailMessage:
    return send_with("anymail.backends.postmark.EmailBackend", to, **attrs)


def test_tracking_through_anymail(
    running: RunningSandbox, api: httpx.Client, django_url: str, tracked: Tracked
) -> None:
    rule = {"recipient": "*@slow.example.com", "outcome": "deferred", "attempts": 1}
    assert api.post("/api/v1/rules", json=rule).status_code == 200
    url = django_url.replace("http://", f"http://{SECRET}@") + "/anymail/postmark/tracking/"
    triggers = {name: {"Enabled": True} for name in (
        "Open", "Click", "Delivery", "Bounce", "SpamComplaint", "SubscriptionChange")}  # fmt: skip
    hook = httpx.post(f"{running.url}/webhooks", headers=HEADERS,
                      json={"Url": url, "Triggers": triggers})  # fmt: skip
    assert hook.status_code == 200, hook.text
    with override_settings(ANYMAIL=anymail_settings(running)):
        sent = {}
        for to in RECIPIENTS:
            status = send([to]).anymail_status
            assert status.status == {"sent"}, status.esp_response
            sent[to] = str(status.message_id)
        for to, types in RECIPIENTS.items():
            tracked.wait(complete(sent[to], {to: types}), timeout=20)
        again = send(["alice+bounce@example.com", "new@example.com"]).anymail_status
    assert again.recipients["alice+bounce@example.com"].status == "rejected"
    assert again.recipients["new@example.com"].status == "sent"
    found = tracked.wait(lambda events: len(events) >= 13)
    events = {(e.recipient, e.event_type): e for e in found}
    for event in found:
        assert event.tags == ["welcome"] and event.metadata == {"order": "42"}
        assert event.esp_event["MessageStream"] == "outbound"
    bounce = events[("alice+bounce@example.com", "bounced")]
    assert bounce.reject_reason == "bounced" and bounce.event_id
    assert bounce.description and "unable to deliver" in bounce.description
    click = events[("carol+click@example.com", "clicked")]
    assert click.click_url == "https://example.com/" and click.user_agent
    assert events[("gina+reject@example.com", "rejected")].reject_reason == "invalid"
    assert events[("dave+complaint@example.com", "complained")].reject_reason == "spam"
    assert events[("frank@slow.example.com", "deferred")].timestamp is not None


def test_backend_sends_attachments_and_templates(
    running: RunningSandbox, api: httpx.Client
) -> None:
    template = {"Name": "Hello", "Alias": "hello", "Subject": "Hello {{name}}",
                "TextBody": "Order {{order}} for {{name}}"}  # fmt: skip
    assert httpx.post(f"{running.url}/templates", headers=HEADERS, json=template).status_code == 200
    with override_settings(ANYMAIL=anymail_settings(running)):
        message = AnymailMessage(
            "Invoice", "See attached", "shop@example.com", ["ann@example.com"],
            connection=get_connection("anymail.backends.postmark.EmailBackend"),
        )  # fmt: skip
        cid = message.attach_inline_image(b"\x89PNG\r\n\x1a\n" + bytes(32), "logo.png")
        message.attach_alternative(f'<p>Logo <img src="cid:{cid}"></p>', "text/html")
        message.attach("invoice.pdf", b"%PDF-1.4", "application/pdf")
        message.tags = ["billing"]
        message.metadata = {"invoice": "9"}
        message.send()
        assert message.anymail_status.status == {"sent"}
        templated = AnymailMessage(
            to=["bob@example.com", "cy@example.com"], from_email="shop@example.com",
            connection=get_connection("anymail.backends.postmark.EmailBackend"),
        )  # fmt: skip
        templated.template_id = "hello"
        templated.merge_data = {
            "bob@example.com": {"name": "Bob"},
            "cy@example.com": {"name": "Cy"},
        }
        templated.merge_global_data = {"order": "7"}
        templated.send()
        statuses = templated.anymail_status.recipients
    assert {r.status for r in statuses.values()} == {"sent"}
    first, *others = listed(api)
    parsed = raw_message(api, first["ID"])
    files = {p.get_filename(): p for p in parsed.walk() if p.get_filename()}
    assert files["invoice.pdf"].get_payload(decode=True) == b"%PDF-1.4"
    assert files["logo.png"]["Content-ID"] == f"<{cid}>"
    assert sorted(m["Subject"] for m in others) == ["Hello Bob", "Hello Cy"]
    bob = next(m for m in others if m["Subject"] == "Hello Bob")
    assert "Order 7 for Bob" in api.get(f"/api/v1/message/{bob['ID']}").json()["Text"]
