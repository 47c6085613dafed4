"""Sending through the resend Python SDK: text, HTML, attachments (bytes and base64, an inline
image by content_id), tags, headers; reading emails back; batches (strict and permissive);
Idempotency-Key; scheduling, rescheduling and cancelling; domains and API keys."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import resend
from resend.exceptions import ResendError

from mailsandbox.runner import RunningSandbox
from tests.emulators.resend.conftest import by_resend_id, email
from tests.emulators.stored import listed, raw_message
from tests.waiting import eventually

LOGO = bytes(range(256))


def test_send_with_everything(running: RunningSandbox, api: httpx.Client, sdk: Any) -> None:
    sent = sdk.Emails.send({
        "from": "Shop <shop@example.com>",
        "to": ["Ann <ann@example.com>", "bob@example.com"],
        "cc": "carol@example.com",
        "bcc": ["hidden@example.com"],
        "reply_to": "replies@example.com",
        "subject": "Your order ✓",
        "text": "Thanks for your order",
        "html": '<p>Thanks <img src="cid:logo"></p>',
        "headers": {"X-Campaign": "spring"},
        "tags": [{"name": "category", "value": "orders"}],
        "attachments": [
            {"filename": "logo.png", "content": list(LOGO), "content_id": "logo"},
            {"filename": "invoice.pdf", "content": base64.b64encode(b"%PDF-1.4").decode(),
             "content_type": "application/pdf"},
        ],
    })  # fmt: skip
    stored = by_resend_id(running, sent["id"])
    assert stored.source == "resend" and stored.inbox == "re_test_key_1"
    assert sorted(stored.recipients) == [
        "ann@example.com", "bob@example.com", "carol@example.com", "hidden@example.com"
    ]  # fmt: skip
    assert stored.tags == ["orders"]
    parsed = raw_message(api, stored.id)
    assert parsed["Subject"] == "Your order ✓" and parsed["X-Campaign"] == "spring"
    assert sent["id"] in parsed["Message-ID"]
    files = {p.get_filename(): p for p in parsed.walk() if p.get_filename()}
    assert files["logo.png"].get_payload(decode=True) == LOGO
    assert files["logo.png"]["Content-ID"] == "<logo>"
    assert files["invoice.pdf"].get_payload(decode=True) == b"%PDF-1.4"

    shown = eventually(lambda: sdk.Emails.get(sent["id"]))
    assert shown["object"] == "email" and shown["id"] == sent["id"]
    assert shown["to"] == ["Ann <ann@example.com>", "bob@example.com"]
    assert shown["cc"] == ["carol@example.com"] and shown["reply_to"] == ["replies@example.com"]
    assert shown["from"] == "Shop <shop@example.com>" and shown["subject"] == "Your order ✓"
    assert shown["html"] == '<p>Thanks <img src="cid:logo"></p>'
    assert shown["text"] == "Thanks for your order"
    assert shown["tags"] == [{"name": "category", "value": "orders"}]
    eventually(lambda: sdk.Emails.get(sent["id"])["last_event"] == "delivered")
    listed_emails = sdk.Emails.list()
    assert [e["id"] for e in listed_emails["data"]] == [sent["id"]]


def test_batches(running: RunningSandbox, api: httpx.Client, sdk: Any, rs: httpx.Client) -> None:
    done = sdk.Batch.send(
        [email(to="a@example.com", subject="A"), email(to="b@example.com", subject="B")]
    )
    assert len(done["data"]) == 2
    assert by_resend_id(running, done["data"][1]["id"]).subject == "B"
    strict = rs.post("/emails/batch", json=[email(subject="ok"), email(to="nobody")])
    assert strict.status_code == 422 and strict.json()["message"].startswith("emails[1]: Invalid")
    mixed = rs.post("/emails/batch", headers={"x-batch-validation": "permissive"},
                    json=[email(subject="kept"), email(to="nobody")])  # fmt: skip
    body = mixed.json()
    assert len(body["data"]) == 1 and body["errors"][0]["index"] == 1
    unsupported = rs.post("/emails/batch", json=[email(scheduled_at="in 1 min")])
    assert unsupported.json()["name"] == "validation_error"
    assert sorted(m["Subject"] for m in listed(api)) == ["A", "B", "kept"]


def test_idempotency_key(
    running: RunningSandbox, api: httpx.Client, sdk: Any, rs: httpx.Client
) -> None:
    first = sdk.Emails.send(email(subject="Once"), {"idempotency_key": "order-42"})
    again = sdk.Emails.send(email(subject="Once"), {"idempotency_key": "order-42"})
    assert again["id"] == first["id"]
    assert [m["Subject"] for m in listed(api)] == ["Once"]
    with pytest.raises(ResendError) as changed:
        sdk.Emails.send(email(subject="Other"), {"idempotency_key": "order-42"})
    assert changed.value.code == 409 and changed.value.error_type == "invalid_idempotent_request"
    long_key = rs.post("/emails", headers={"Idempotency-Key": "k" * 257}, json=email())
    assert long_key.status_code == 400 and long_key.json()["name"] == "invalid_idempotency_key"
    batch = [email(subject="Batched")]
    one = rs.post("/emails/batch", headers={"Idempotency-Key": "b1"}, json=batch).json()
    assert rs.post("/emails/batch", headers={"Idempotency-Key": "b1"}, json=batch).json() == one


def test_scheduling(running: RunningSandbox, api: httpx.Client, sdk: Any, rs: httpx.Client) -> None:
    later = sdk.Emails.send(email(subject="Later", scheduled_at="in 1 hour"))
    shown = sdk.Emails.get(later["id"])
    assert shown["last_event"] == "scheduled" and shown["scheduled_at"]
    assert listed(api)[0]["Subject"] == "Later"  # stored at once, sent at its time
    soon = time.time() + 0.5
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(soon)) + f".{int(soon % 1 * 1000):03d}Z"
    updated = sdk.Emails.update({"id": later["id"], "scheduled_at": iso})
    assert (updated["object"], updated["id"]) == ("email", later["id"])
    eventually(lambda: sdk.Emails.get(later["id"])["last_event"] == "delivered", timeout=15)

    cancelled = sdk.Emails.send(email(subject="Never", scheduled_at="in 2 days"))
    assert sdk.Emails.cancel(cancelled["id"])["id"] == cancelled["id"]
    assert sdk.Emails.get(cancelled["id"])["last_event"] == "canceled"
    again = rs.post(f"/emails/{cancelled['id']}/cancel")
    assert again.status_code == 422 and again.json()["name"] == "validation_error"
    events = api.get(f"/api/v1/message/{by_resend_id(running, cancelled['id']).id}/events")
    assert [e["Type"] for e in events.json()["events"]] == ["queued"]
    too_far = rs.post("/emails", json=email(scheduled_at="in 40 days"))
    assert too_far.status_code == 422


def test_domains_and_api_keys(sandbox_factory: Callable[..., RunningSandbox], sdk: Any) -> None:
    running = sandbox_factory(resend_api_key=["re_configured"])
    resend.api_url, resend.api_key = running.url, "re_configured"
    sdk.Emails.send(email(**{"from": "news@mail.example.org"}))
    created = sdk.Domains.create({"name": "example.net"})
    assert created["name"] == "example.net" and created["status"] == "verified"
    names = {d["name"] for d in sdk.Domains.list()["data"]}
    assert names == {"example.net", "mail.example.org"}
    assert sdk.Domains.get(created["id"])["records"]
    key = sdk.ApiKeys.create({"name": "ci"})
    assert key["token"].startswith("re_")
    keys = sdk.ApiKeys.list()["data"]
    assert "ci" in {k["name"] for k in keys} and len(keys) == 2
    resend.api_key = key["token"]  # a created key is accepted like a configured one
    assert sdk.Emails.send(email())["id"]
    resend.api_key = "re_other"
    with pytest.raises(ResendError) as refused:
        sdk.Emails.send(email())
    assert refused.value.code == 403 and refused.value.error_type == "invalid_api_key"
    resend.api_key = "re_configured"
    sdk.ApiKeys.remove(key["id"])
    resend.api_key = key["token"]
    with pytest.raises(ResendError):
        sdk.Emails.send(email())
