"""The fields of Mailgun's webhook ``event-data`` that apps read, as api-events.rst documents
them: ``storage`` (url + key: GET fetches, POST resends), ``message.recipients`` on
``accepted``, ``message.scheduled-for`` with ``o:deliverytime``, ``message.attachments``,
``delivery-status`` ``code``/``enhanced-code``/``bounce-code`` taken from the reply a rule or a
manual trigger supplied. Webhooks are registered with the v4 API (one URL, several event
types) and an account-level webhook; a URL in both gets each event once."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox
from tests.emulators.mailgun.conftest import DOMAIN, stored
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually

AUTH = ("api", "key-fields")
NAMES = ["accepted", "delivered", "temporary_fail", "permanent_fail"]
PDF = b"%PDF-1.4 invoice"


def event_data(receiver: Receiver) -> list[dict[str, Any]]:
    return [r.json()["event-data"] for r in receiver.accepted]


def one(found: list[dict[str, Any]], event: str, recipient: str) -> dict[str, Any]:
    [item] = [e for e in found if e["event"] == event and e["recipient"] == recipient]
    return item


def test_webhook_event_data_fields(running: RunningSandbox, api: httpx.Client) -> None:
    rules = [
        {
            "recipient": "grey@*",
            "outcome": "deferred",
            "attempts": 1,
            "reason": "451 4.7.1 Greylisted",
        },
        {"recipient": "spam@*", "outcome": "bounced", "reason": "550 5.7.1 Rejected as spam"},
    ]
    for rule in rules:
        assert api.post("/api/v1/rules", json=rule).status_code == 200
    with Receiver() as hooks, Receiver() as account:
        created = api.post(
            f"/v4/domains/{DOMAIN}/webhooks",
            data={"url": hooks.url, "event_types": NAMES},
            auth=AUTH,
        )
        assert created.status_code == 200, created.text
        assert created.json()["webhooks"]["delivered"] == {"urls": [hooks.url]}
        for url in (hooks.url, account.url):  # the same URL again: still one POST per event
            form = {"url": url, "event_types": ["delivered"], "description": "all domains"}
            assert api.post("/v1/webhooks", data=form, auth=AUTH).status_code == 200

        when = time.time() + 1.5
        sent = api.post(
            f"/v3/{DOMAIN}/messages",
            data={
                "from": f"shop@{DOMAIN}",
                "to": ["ann@example.com", "grey@example.com", "spam@example.com"],
                "subject": "Invoice",
                "text": "attached",
                "o:deliverytime": formatdate(when),
            },
            files=[("attachment", ("invoice.pdf", PDF, "application/pdf"))],
            auth=AUTH,
        )
        assert sent.status_code == 200, sent.text
        found = eventually(lambda: event_data(hooks) if len(hooks.accepted) >= 7 else None)
        assert len(account.wait_for(2)) == 2  # delivered: ann, grey

        accepted = one(found, "accepted", "ann@example.com")
        message = accepted["message"]
        assert sorted(message["recipients"]) == [
            "ann@example.com",
            "grey@example.com",
            "spam@example.com",
        ]
        assert message["scheduled-for"] == int(when)
        assert message["attachments"] == [
            {"filename": "invoice.pdf", "content-type": "application/pdf", "size": len(PDF)}
        ]
        [summary] = stored(api)
        assert accepted["storage"] == {
            "url": f"{running.url}/v3/domains/{DOMAIN}/messages/{summary['ID']}",
            "key": summary["ID"],
        }
        delivered = one(found, "delivered", "ann@example.com")
        assert "recipients" not in delivered["message"]  # only on accepted
        assert delivered["timestamp"] >= int(when)  # o:deliverytime held delivery

        temporary = one(found, "failed", "grey@example.com")
        assert temporary["severity"] == "temporary"
        status = temporary["delivery-status"]
        assert (status["code"], status["enhanced-code"]) == (451, "4.7.1")
        assert status["message"] == "451 4.7.1 Greylisted"

        bounced = one(found, "failed", "spam@example.com")
        assert (bounced["severity"], bounced["reason"]) == ("permanent", "bounce")
        status = bounced["delivery-status"]
        assert (status["code"], status["bounce-code"], status["enhanced-code"]) == (
            550,
            "5.7.1",
            "5.7.1",
        )

        # a deferral triggered by hand with a 451 reply is a 451
        manual = {"type": "deferred", "recipient": "ann@example.com", "reason": "451 4.2.0 Busy"}
        assert api.post(f"/api/v1/message/{summary['ID']}/events", json=manual).is_success
        hooks.wait_for(8)
        late = [e for e in event_data(hooks) if e["event"] == "failed"]
        [manual_event] = [e for e in late if e["recipient"] == "ann@example.com"]
        assert manual_event["delivery-status"]["code"] == 451
        assert manual_event["delivery-status"]["enhanced-code"] == "4.2.0"

        # the storage URL: GET fetches the message, POST resends it
        storage_url = accepted["storage"]["url"]
        fetched = api.get(storage_url, auth=AUTH).json()
        assert fetched["subject"] == "Invoice"
        resent = api.post(storage_url, data={"to": "again@example.com"}, auth=AUTH)
        assert resent.json()["message"] == "Queued. Thank you."
        copy = eventually(lambda: [m for m in stored(api) if m["ID"] != summary["ID"]])
        assert [a["Address"] for a in copy[0]["Bcc"]] == ["again@example.com"]
        assert copy[0]["MessageID"] == resent.json()["id"].strip("<>")


def test_v4_and_account_webhook_management(api: httpx.Client) -> None:
    base = f"/v4/domains/{DOMAIN}/webhooks"
    a, b = "https://a.example.com/h", "https://b.example.com/h"
    api.post(base, data={"url": a, "event_types": ["delivered", "opened"]}, auth=AUTH)
    added = api.post(base, data={"url": b, "event_types": ["delivered"]}, auth=AUTH).json()
    assert added == {"webhooks": {"delivered": {"urls": [a, b]}, "opened": {"urls": [a]}}}
    replaced = api.put(base, data={"url": a, "event_types": ["clicked"]}, auth=AUTH).json()
    assert replaced == {"webhooks": {"delivered": {"urls": [b]}, "clicked": {"urls": [a]}}}
    v3 = api.get(f"/v3/domains/{DOMAIN}/webhooks", auth=AUTH).json()["webhooks"]
    assert v3 == replaced["webhooks"]  # the same rows as the v3 API's
    removed = api.delete(base, params={"url": f"{a},{b}"}, auth=AUTH).json()
    assert removed == {"webhooks": {}}
    bad = api.post(base, data={"url": a, "event_types": ["sometimes"]}, auth=AUTH)
    assert bad.status_code == 400

    created = api.post(
        "/v1/webhooks", data={"url": a, "event_types": ["accepted", "opened"]}, auth=AUTH
    ).json()
    hook_id = created["webhook_id"]
    got = api.get(f"/v1/webhooks/{hook_id}", auth=AUTH).json()
    assert (got["url"], got["event_types"]) == (a, ["accepted", "opened"])
    assert got["created_at"].endswith("Z")
    assert [w["webhook_id"] for w in api.get("/v1/webhooks", auth=AUTH).json()["webhooks"]] == [
        hook_id
    ]
    update = {"url": b, "event_types": ["delivered"], "description": "moved"}
    assert api.put(f"/v1/webhooks/{hook_id}", data=update, auth=AUTH).status_code == 204
    assert api.get(f"/v1/webhooks/{hook_id}", auth=AUTH).json()["description"] == "moved"
    duplicate = api.post(
        "/v1/webhooks", data={"url": a, "event_types": ["opened", "opened"]}, auth=AUTH
    )
    assert (duplicate.status_code, duplicate.json()) == (
        400,
        {"Field": "event_types", "Value": "duplicate event types: 'opened'"},
    )
    for i in range(2):
        form = {"url": f"https://{i}.example.com/", "event_types": ["delivered"]}
        assert api.post("/v1/webhooks", data=form, auth=AUTH).status_code == 200
    crowded = api.post("/v1/webhooks", data={"url": a, "event_types": ["delivered"]}, auth=AUTH)
    assert (crowded.status_code, crowded.json()) == (
        409,
        {"Description": "unable to add more than 3 urls for event type delivered"},
    )
    assert api.delete(f"/v1/webhooks/{hook_id}", auth=AUTH).status_code == 204
    missing = api.delete(f"/v1/webhooks/{hook_id}", auth=AUTH)
    assert (missing.status_code, missing.json()) == (
        404,
        {"Description": f"webhook_id not found: {hook_id}"},
    )
    assert api.delete("/v1/webhooks", params={"all": "true"}, auth=AUTH).status_code == 204
    assert api.get("/v1/webhooks", auth=AUTH).json() == {"webhooks": []}
