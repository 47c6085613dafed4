"""Webhook management with the SDK, the ``test`` call (a real HTTP receiver checks the HMAC),
and the signing key: configured, or generated once and kept across restarts."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator

import httpx
import pytest
from mailgun.client import Client

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import webhooks
from tests.emulators.mailgun.conftest import DOMAIN, KEY
from tests.sandbox.events.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def test_webhook_crud_with_the_sdk(mg: Client, running: RunningSandbox) -> None:
    created = mg.domains_webhooks.create(
        domain=DOMAIN, data={"id": "delivered", "url": ["https://a.test/1", "https://a.test/2"]}
    )
    assert created.json() == {
        "message": "Webhook has been created",
        "webhook": {"urls": ["https://a.test/1", "https://a.test/2"]},
    }
    mg.domains_webhooks.create(
        domain=DOMAIN, data={"id": "permanent_fail", "url": "https://b.test"}
    )
    again = mg.domains_webhooks.create(domain=DOMAIN, data={"id": "delivered", "url": "https://x"})
    assert again.status_code == 400

    listing = mg.domains_webhooks.get(domain=DOMAIN).json()
    assert listing == {
        "webhooks": {
            "delivered": {"urls": ["https://a.test/1", "https://a.test/2"]},
            "permanent_fail": {"urls": ["https://b.test"]},
        }
    }
    one = mg.domains_webhooks.get(domain=DOMAIN, webhook_name="delivered").json()
    assert one == {"webhook": {"urls": ["https://a.test/1", "https://a.test/2"]}}

    updated = mg.domains_webhooks.put(
        domain=DOMAIN, webhook_name="delivered", data={"url": "https://c.test/new"}
    )
    assert updated.json() == {
        "message": "Webhook has been updated",
        "webhook": {"urls": ["https://c.test/new"]},
    }
    rows = running.sandbox.db.read_sync(
        lambda conn: webhooks.list_endpoints(conn, "mailgun", DOMAIN)
    )
    delivered = next(r for r in rows if r.events == ["delivered"])
    assert delivered.url == "https://c.test/new" and delivered.details["urls"] == [delivered.url]

    deleted = mg.domains_webhooks.delete(domain=DOMAIN, webhook_name="delivered")
    assert deleted.json()["message"] == "Webhook has been deleted"
    missing = mg.domains_webhooks.get(domain=DOMAIN, webhook_name="delivered")
    assert (missing.status_code, missing.json()) == (404, {"message": "Webhook not found"})


def test_bad_webhook_requests(api: httpx.Client) -> None:
    url = f"/v3/domains/{DOMAIN}/webhooks"
    assert api.post(url, data={"id": "exploded", "url": "https://x"}).status_code == 400
    assert api.post(url, data={"id": "opened"}).json() == {"message": "url is missing"}
    four = {"id": "opened", "url": [f"https://x/{i}" for i in range(4)]}
    assert api.post(url, data=four).status_code == 400
    assert api.put(f"{url}/opened", data={"url": "https://x"}).status_code == 404


def _verify(key: str, signature: dict[str, str]) -> bool:
    expected = hmac.new(
        key.encode(), (signature["timestamp"] + signature["token"]).encode(), hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, signature["signature"])


def test_test_call_posts_a_signed_event(
    sandbox_factory: Callable[..., RunningSandbox], receiver: Receiver
) -> None:
    running = sandbox_factory(mailgun_webhook_signing_key="my-signing-key")
    url = receiver.url.replace("http://", "http://hook:secret@")
    with httpx.Client(base_url=running.url, auth=("api", KEY)) as api:
        answer = api.put(f"/v3/domains/{DOMAIN}/webhooks/permanent_fail/test", data={"url": url})
        assert answer.json() == {"code": 200, "message": "ok"}  # the receiver's answer
        key = api.get("/v5/accounts/http_signing_key").json()
    assert key == {"http_signing_key": "my-signing-key"}
    [hit] = receiver.requests
    assert hit.headers["Authorization"] == "Basic aG9vazpzZWNyZXQ="  # hook:secret
    payload = hit.json()
    assert _verify("my-signing-key", payload["signature"])
    assert len(payload["signature"]["token"]) == 50
    assert payload["event-data"]["event"] == "failed"
    assert payload["event-data"]["severity"] == "permanent"


def test_generated_signing_key_is_kept_across_restarts(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    first = sandbox_factory()
    key = httpx.get(f"{first.url}/v5/accounts/http_signing_key").json()["http_signing_key"]
    assert len(key) == 32
    first.stop()
    second = sandbox_factory()
    again = httpx.get(f"{second.url}/v5/accounts/http_signing_key").json()["http_signing_key"]
    assert again == key


def test_engine_delivers_signed_webhooks_for_sent_mail(
    mg: Client, receiver: Receiver, running: RunningSandbox
) -> None:
    mg.domains_webhooks.create(domain=DOMAIN, data={"id": "delivered", "url": receiver.url})
    data = {"from": "a@mg.example.com", "to": "b@example.com", "text": "x", "v:order": "7"}
    message_id = mg.messages.create(domain=DOMAIN, data=data).json()["id"]
    [hit] = receiver.wait_for(1)
    payload = hit.json()
    assert _verify(running.sandbox.extensions["mailgun.signer"].key, payload["signature"])
    event = payload["event-data"]
    assert event["event"] == "delivered" and event["recipient"] == "b@example.com"
    assert event["message"]["headers"]["message-id"] == message_id.strip("<>")
    assert event["user-variables"] == {"order": "7"}
