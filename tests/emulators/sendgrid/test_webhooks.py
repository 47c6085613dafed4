"""Event Webhook settings (legacy + multi), the signed-webhook key, and ``test`` deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import webhooks
from tests.sandbox.events.receiver import Receiver

SETTINGS = "/v3/user/webhooks/event/settings"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def _endpoints(running: RunningSandbox) -> list[webhooks.WebhookEndpoint]:
    return running.sandbox.db.read_sync(lambda conn: webhooks.list_endpoints(conn, "sendgrid"))


def test_legacy_settings_round_trip(sg: SendGridAPIClient, running: RunningSandbox) -> None:
    settings = sg.client.user.webhooks.event.settings
    empty = settings.get().to_dict
    assert empty["enabled"] is False and empty["url"] == "" and empty["delivered"] is False
    patched = settings.patch(
        request_body={
            "enabled": True,
            "url": "https://example.com/h",
            "delivered": True,
            "spam_report": True,
            "bounce": True,
        }
    ).to_dict
    assert patched["enabled"] is True and patched["spam_report"] is True
    assert settings.get().to_dict == patched
    [endpoint] = _endpoints(running)
    assert endpoint.details == {"legacy": True}
    assert endpoint.url == "https://example.com/h"
    assert sorted(endpoint.events) == ["bounce", "delivered", "spamreport"]
    settings.patch(request_body={"bounce": False})
    assert sorted(_endpoints(running)[0].events) == ["delivered", "spamreport"]


def test_multi_webhooks_crud(http: httpx.Client, running: RunningSandbox) -> None:
    created = http.post(
        SETTINGS,
        json={"url": "https://a.example/h", "enabled": True, "open": True, "friendly_name": "A"},
    )
    assert created.status_code == 201
    hook = created.json()
    assert hook["open"] is True and hook["friendly_name"] == "A" and hook["id"]
    assert isinstance(hook["created_date"], int)
    listing = http.get(f"{SETTINGS}/all").json()
    assert listing["max_allowed"] == 5
    assert [w["id"] for w in listing["webhooks"]] == [hook["id"]]
    patched = http.patch(f"{SETTINGS}/{hook['id']}", json={"click": True, "enabled": False})
    assert patched.json()["click"] is True and patched.json()["enabled"] is False
    assert http.get(f"{SETTINGS}/{hook['id']}").json() == patched.json()
    [endpoint] = _endpoints(running)
    assert (endpoint.enabled, sorted(endpoint.events)) == (False, ["click", "open"])
    assert http.delete(f"{SETTINGS}/{hook['id']}").status_code == 204
    assert http.get(f"{SETTINGS}/{hook['id']}").status_code == 404
    assert http.post(SETTINGS, json={"enabled": True}).status_code == 400
    assert http.patch(SETTINGS, json={"open": "yes"}).json()["errors"][0]["field"] == "open"


def test_signed_key_verifies_with_the_sdk(http: httpx.Client, running: RunningSandbox) -> None:
    assert http.get(f"{SETTINGS}/signed").json() == {"public_key": ""}
    key = http.patch(f"{SETTINGS}/signed", json={"enabled": True}).json()["public_key"]
    assert "BEGIN" not in key and len(key) > 80
    signer = running.sandbox.extensions["sendgrid.signer"]
    assert key == signer.public_key_b64
    payload = b'[{"event":"delivered","email":"a@example.com"}]'
    signature = signer.sign(payload, "1700000000")
    verifier = EventWebhook()
    public = verifier.convert_public_key_to_ecdsa(key)
    assert verifier.verify_signature(payload.decode(), signature, "1700000000", public)
    assert not verifier.verify_signature(payload.decode() + " ", signature, "1700000000", public)

    hook = http.post(SETTINGS, json={"url": "https://b.example/h"}).json()
    by_id = http.patch(f"{SETTINGS}/signed/{hook['id']}", json={"enabled": True}).json()
    assert by_id == {"id": hook["id"], "public_key": key}
    assert http.get(f"{SETTINGS}/signed/{hook['id']}").json() == by_id


def test_signing_key_survives_a_restart(sandbox_factory: Any, tmp_path: Any) -> None:
    first = sandbox_factory()
    key = first.sandbox.extensions["sendgrid.signer"].public_key_b64
    first.stop()
    second = sandbox_factory()
    assert second.sandbox.extensions["sendgrid.signer"].public_key_b64 == key


def test_test_endpoint_posts_a_signed_sample(
    http: httpx.Client, receiver: Receiver, running: RunningSandbox
) -> None:
    hook = http.post(SETTINGS, json={"url": receiver.url, "enabled": True}).json()
    http.patch(f"{SETTINGS}/signed/{hook['id']}", json={"enabled": True})
    response = http.post(
        "/v3/user/webhooks/event/test", json={"id": hook["id"], "url": receiver.url}
    )
    assert response.status_code == 204
    [hit] = receiver.requests
    headers, body = hit.headers, hit.body
    events = hit.json()
    assert events[0]["event"] == "processed" and "sg_event_id" in events[0]
    verifier = EventWebhook()
    public = verifier.convert_public_key_to_ecdsa(
        running.sandbox.extensions["sendgrid.signer"].public_key_b64
    )
    assert verifier.verify_signature(
        body.decode(),
        headers["X-Twilio-Email-Event-Webhook-Signature"],
        headers["X-Twilio-Email-Event-Webhook-Timestamp"],
        public,
    )
    unsigned = http.post("/v3/user/webhooks/event/test", json={"url": receiver.url})
    assert unsigned.status_code == 204
    assert "X-Twilio-Email-Event-Webhook-Signature" not in receiver.requests[1].headers
