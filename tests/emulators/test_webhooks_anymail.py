"""PROOF of the webhook machinery against the real consumers: django-anymail's tracking webhook
views (signature checks ON, Basic auth from the URL's userinfo) served by a real WSGI server,
mail sent through anymail's own SendGrid and Mailgun backends into the emulators, and the
``anymail.signals.tracking`` signal checked for every event type; plus sendgrid-python's
``EventWebhook`` on our signed batches and each provider's retry rules."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from anymail.message import AnymailMessage
from anymail.signals import AnymailTrackingEvent, tracking
from django.core.mail import get_connection
from django.test import override_settings
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook

from mailsandbox.runner import RunningSandbox
from tests.emulators.django_settings import serve_django
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually

pytestmark = pytest.mark.filterwarnings("ignore::Warning")
SECRET = "hook:s3cret"
MG_KEY, MG_DOMAIN = "key-anymail-test", "mg.example.com"
SG_FLAGS = (
    "bounce",
    "click",
    "deferred",
    "delivered",
    "dropped",
    "open",
    "processed",
    "spam_report",
    "unsubscribe",
)
MG_NAMES = (
    "accepted",
    "delivered",
    "permanent_fail",
    "temporary_fail",
    "opened",
    "clicked",
    "complained",
    "unsubscribed",
)
RECIPIENTS = {  # recipient → the anymail event types it must produce, in order
    "ok@example.com": ["queued", "delivered"],
    "alice+bounce@example.com": ["queued", "bounced"],
    "bob+open@example.com": ["queued", "delivered", "opened"],
    "carol+click@example.com": ["queued", "delivered", "opened", "clicked"],
    "dave+complaint@example.com": ["queued", "delivered", "complained"],
    "erin+unsubscribe@example.com": ["queued", "delivered", "unsubscribed"],
    "frank@slow.example.com": ["queued", "deferred", "delivered"],
    "gina+reject@example.com": ["queued", "rejected"],
}


@dataclass
class Tracked:
    events: list[tuple[str, AnymailTrackingEvent]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, sender: Any, event: AnymailTrackingEvent, esp_name: str, **_: Any) -> None:
        with self.cond:
            self.events.append((esp_name, event))
            self.cond.notify_all()

    def wait(
        self, done: Callable[[list[AnymailTrackingEvent]], bool], timeout: float = 15
    ) -> list[AnymailTrackingEvent]:
        def all_there() -> list[AnymailTrackingEvent]:
            with self.cond:
                found = [e for _, e in self.events]
            types = sorted((e.recipient or "", e.event_type) for e in found)
            assert done(found), f"tracking events so far: {types}"
            return found

        return eventually(all_there, timeout=timeout)


def by_recipient(found: list[AnymailTrackingEvent], message_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for event in found:
        if event.message_id == message_id:
            out.setdefault(event.recipient or "", []).append(event.event_type)
    return out


def complete(
    message_id: str, expected: dict[str, list[str]]
) -> Callable[[list[AnymailTrackingEvent]], bool]:
    return lambda found: all(
        sorted(by_recipient(found, message_id).get(r, [])) == sorted(t) for r, t in expected.items()
    )


@pytest.fixture(scope="module")
def django_url() -> Iterator[str]:
    with serve_django() as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def tracked() -> Iterator[Tracked]:
    collector = Tracked()
    tracking.connect(collector, weak=False)
    yield collector
    tracking.disconnect(collector)


def hook_url(base: str, esp: str) -> str:
    return base.replace("http://", f"http://{SECRET}@") + f"/anymail/{esp}/tracking/"


def slow_rule(api: httpx.Client) -> None:
    rule = {"recipient": "*@slow.example.com", "outcome": "deferred", "attempts": 1}
    assert api.post("/api/v1/rules", json=rule).status_code == 200


def anymail_send(backend: str, to: list[str], **kwargs: Any) -> str:
    connection = get_connection(f"anymail.backends.{backend}.EmailBackend", **kwargs)
    sender = "shop@mg.example.com" if backend == "mailgun" else "shop@example.com"
    message = AnymailMessage("Welcome", "Hello!", sender, to, connection=connection)
    message.tags = ["welcome"]
    message.metadata = {"order": "42"}
    message.esp_extra = kwargs.pop("esp_extra", None) or {}
    message.send()
    status = message.anymail_status
    assert status.message_id, status.esp_response
    return str(status.message_id)


def sendgrid_webhook(sg: SendGridAPIClient, url: str) -> str:
    sg.client.user.webhooks.event.settings.patch(
        request_body={"enabled": True, "url": url, **dict.fromkeys(SG_FLAGS, True)}
    )
    signed = sg.client.user.webhooks.event.settings.signed.patch(request_body={"enabled": True})
    return str(json.loads(signed.body)["public_key"])


def test_sendgrid_tracking_through_anymail(
    running: RunningSandbox, api: httpx.Client, django_url: str, tracked: Tracked
) -> None:
    sg = SendGridAPIClient("SG.anymail", host=running.url)
    public_key = sendgrid_webhook(sg, hook_url(django_url, "sendgrid"))
    slow_rule(api)
    anymail_settings = {
        "WEBHOOK_SECRET": SECRET,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": public_key,
    }
    send = {"api_key": "SG.anymail", "api_url": f"{running.url}/v3/"}
    with override_settings(ANYMAIL=anymail_settings):
        first = anymail_send("sendgrid", list(RECIPIENTS), **send)
        found = tracked.wait(complete(first, RECIPIENTS))
        second = anymail_send("sendgrid", ["alice+bounce@example.com"], **send)
        found = tracked.wait(complete(second, {"alice+bounce@example.com": ["queued", "rejected"]}))
    for event in found:
        assert event.tags == ["welcome"]
        extra = {"sg_machine_open"} if event.event_type == "opened" else set()
        assert set(event.metadata) - extra == {"order"} and event.metadata["order"] == "42"
        assert event.event_id and event.esp_event["sg_message_id"]
    reasons = {(e.message_id, e.recipient, e.event_type): e for e in found}
    dropped = reasons[(second, "alice+bounce@example.com", "rejected")]
    assert dropped.reject_reason == "bounced" and dropped.esp_event["reason"] == "Bounced Address"
    assert reasons[(first, "gina+reject@example.com", "rejected")].reject_reason == "invalid"
    assert reasons[(first, "carol+click@example.com", "clicked")].click_url
    assert "5.1.1" in (reasons[(first, "alice+bounce@example.com", "bounced")].mta_response or "")
    assert len({e.event_id for e in found}) == len(found)  # nothing delivered twice


def mailgun_webhooks(running: RunningSandbox, url: str) -> str:
    with httpx.Client(base_url=running.url, auth=("api", MG_KEY)) as client:
        for name in MG_NAMES:
            created = client.post(
                f"/v3/domains/{MG_DOMAIN}/webhooks", data={"id": name, "url": url}
            )
            assert created.status_code == 200, created.text
        return str(client.get("/v5/accounts/http_signing_key").json()["http_signing_key"])


def test_mailgun_tracking_through_anymail(
    running: RunningSandbox, api: httpx.Client, django_url: str, tracked: Tracked
) -> None:
    signing_key = mailgun_webhooks(running, hook_url(django_url, "mailgun"))
    slow_rule(api)
    send = {"api_key": MG_KEY, "api_url": f"{running.url}/v3"}
    with override_settings(
        ANYMAIL={"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": signing_key}
    ):
        first = anymail_send("mailgun", list(RECIPIENTS), **send)
        found = tracked.wait(complete(first, RECIPIENTS))
        second = anymail_send("mailgun", ["alice+bounce@example.com"], **send)
        found = tracked.wait(complete(second, {"alice+bounce@example.com": ["queued", "bounced"]}))
        third = anymail_send(
            "mailgun", ["tess@example.com"], esp_extra={"o:testmode": "yes"}, **send
        )
        found = tracked.wait(complete(third, {"tess@example.com": ["queued", "delivered"]}))
    for event in found:
        assert event.tags == ["welcome"] and event.metadata == {"order": "42"}
    events = {(e.message_id, e.recipient, e.event_type): e for e in found}
    bounce = events[(first, "alice+bounce@example.com", "bounced")]
    assert (
        bounce.reject_reason == "bounced"
        and bounce.esp_event["event-data"]["severity"] == "permanent"
    )
    suppressed = events[(second, "alice+bounce@example.com", "bounced")].esp_event["event-data"]
    assert suppressed["reason"] == "suppress-bounce"
    assert events[(first, "gina+reject@example.com", "rejected")].reject_reason == "other"
    test_mode = events[(third, "tess@example.com", "delivered")].esp_event["event-data"]
    assert (
        test_mode["delivery-status"]["code"] == 650 and test_mode["flags"]["is-test-mode"] is True
    )
    assert events[(first, "carol+click@example.com", "clicked")].click_url
    assert len({e.event_id for e in found}) == len(found)  # a fresh token per POST
    listed = httpx.get(
        f"{running.url}/v3/{MG_DOMAIN}/events", auth=("api", MG_KEY), params={"limit": 300}
    )
    bounces = httpx.get(f"{running.url}/v3/{MG_DOMAIN}/bounces", auth=("api", MG_KEY)).json()
    assert [b["address"] for b in bounces["items"]] == ["alice+bounce@example.com"]
    names = {(i["recipient"], i["event"]) for i in listed.json()["items"]}
    assert ("alice+bounce@example.com", "failed") in names and (
        "ok@example.com",
        "accepted",
    ) in names


def test_sendgrid_signature_verifies_with_sendgrid_python_and_retries(
    running: RunningSandbox, receiver: Receiver
) -> None:
    sg = SendGridAPIClient("SG.verify", host=running.url)
    public_key = sendgrid_webhook(sg, receiver.url + "/sg")
    receiver.status = 503
    sg.client.mail.send.post(
        request_body={
            "personalizations": [{"to": [{"email": "v+bounce@example.com"}]}],
            "from": {"email": "shop@example.com"},
            "subject": "Signed",
            "content": [{"type": "text/plain", "value": "x"}],
        }
    )
    receiver.wait_for(1, accepted=False)
    receiver.status = 200
    batches = receiver.wait_for(1)
    eventually(
        lambda: (
            sorted(e["event"] for r in receiver.accepted for e in r.json())
            == ["bounce", "processed"]
        )
    )
    bounces = json.loads(sg.client.suppression.bounces.get().body)
    assert [b["email"] for b in bounces] == ["v+bounce@example.com"]
    request = batches[0]
    assert isinstance(request.json(), list)
    signature = request.headers["X-Twilio-Email-Event-Webhook-Signature"]
    timestamp = request.headers["X-Twilio-Email-Event-Webhook-Timestamp"]
    verifier = EventWebhook()
    key = verifier.convert_public_key_to_ecdsa(public_key)
    assert verifier.verify_signature(request.body.decode(), signature, timestamp, key) is True
    tampered = request.body.decode().replace("processed", "delivered").replace("bounce", "open")
    assert verifier.verify_signature(tampered, signature, timestamp, key) is False


@pytest.mark.parametrize(("status", "attempts"), [(406, 1), (500, 3)])
def test_mailgun_406_stops_other_failures_retry(
    sandbox_factory: Callable[..., RunningSandbox], receiver: Receiver, status: int, attempts: int
) -> None:
    running = sandbox_factory(webhook_retry_schedule="0.2s", mailgun_api_key=[MG_KEY])
    mailgun_webhooks(running, receiver.url + "/mg")
    receiver.status = status
    with httpx.Client(base_url=running.url, auth=("api", MG_KEY)) as client:
        sent = client.post(
            f"/v3/{MG_DOMAIN}/messages",
            data={
                "from": "shop@mg.example.com",
                "to": "x@example.com",
                "subject": "s",
                "text": "t",
            },
        )
        assert sent.status_code == 200, sent.text
        receiver.wait_for(2 * attempts, accepted=False)  # accepted + delivered, N times each
        expected = {"stopped"} if status == 406 else {"pending"}

        def states() -> set[str]:
            log = client.get("/api/v1/webhooks/deliveries").json()
            found = {d["State"] for d in log["deliveries"]}
            assert found == expected, found
            return found

        eventually(states)
        if status == 406:  # both stopped, nothing pending: never retried
            assert len(receiver.requests) == 2


def test_sendgrid_sandbox_mode_sends_no_events(running: RunningSandbox, receiver: Receiver) -> None:
    sg = SendGridAPIClient("SG.sandbox", host=running.url)
    sendgrid_webhook(sg, receiver.url + "/sg")
    response = sg.client.mail.send.post(
        request_body={
            "personalizations": [{"to": [{"email": "quiet+bounce@example.com"}]}],
            "from": {"email": "shop@example.com"},
            "subject": "Validate only",
            "content": [{"type": "text/plain", "value": "x"}],
            "mail_settings": {"sandbox_mode": {"enable": True}},
        }
    )
    assert response.status_code == 200
    # A real send after it: once its events have arrived, the validate-only send's would have.
    sg.client.mail.send.post(
        request_body={
            "personalizations": [{"to": [{"email": "marker@example.com"}]}],
            "from": {"email": "shop@example.com"},
            "subject": "Stored",
            "content": [{"type": "text/plain", "value": "x"}],
        }
    )
    receiver.wait_for(1)
    posted = [e["email"] for r in receiver.requests for e in r.json()]
    assert posted and set(posted) == {"marker@example.com"}
    deliveries = httpx.get(f"{running.url}/api/v1/webhooks/deliveries").json()["deliveries"]
    assert deliveries and all(d["MessageID"] != "" for d in deliveries)
    assert len(httpx.get(f"{running.url}/api/v1/messages").json()["messages"]) == 1


def test_stored_events_carry_provider_ids(running: RunningSandbox, api: httpx.Client) -> None:
    sg = SendGridAPIClient("SG.ids", host=running.url)
    sg.client.mail.send.post(
        request_body={
            "personalizations": [{"to": [{"email": "ids@example.com"}]}],
            "from": {"email": "shop@example.com"},
            "subject": "Ids",
            "content": [{"type": "text/plain", "value": "x"}],
        }
    )
    message_id = api.get("/api/v1/messages").json()["messages"][0]["ID"]

    def stored() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = api.get(f"/api/v1/message/{message_id}/events").json()[
            "events"
        ]
        assert len(found) >= 2, found
        return found

    for event in eventually(stored):
        details = event["Details"]
        assert details["sg_event_id"] == event["ID"]
        assert details["sg_message_id"] and details["smtp-id"].startswith("<")
