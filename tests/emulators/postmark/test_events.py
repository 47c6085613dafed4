"""Every Postmark webhook type POSTed to a real local endpoint (with the webhook's Basic auth and
custom headers), the webhooks API, the per-stream suppression list fed by hard bounces and
complaints (later sends refused with 406 as anymail expects), the bounce-testing domain, the
Bounces, Suppressions and Messages APIs over the same events."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox
from tests.emulators.postmark.conftest import make_webhook, message
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually

MAGIC = {
    "ok@example.com": ["Delivery"],
    "alice+bounce@example.com": ["Bounce"],
    "bob+open@example.com": ["Delivery", "Open"],
    "carol+click@example.com": ["Delivery", "Open", "Click"],
    "dave+complaint@example.com": ["Delivery", "SpamComplaint"],
    "erin+unsubscribe@example.com": ["Delivery", "SubscriptionChange"],
    "frank@slow.example.com": ["Bounce", "Delivery"],
    "gina+reject@example.com": ["Bounce"],
    "HardBounce@bounce-testing.postmarkapp.com": ["Bounce"],
    "Soft_Bounce@bounce-testing.postmarkapp.com": ["Bounce"],
}


def records(receiver: Receiver, expected: int) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.wait_for(expected)]


def by_recipient(found: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for record in found:
        who = record.get("Recipient") or record.get("Email") or ""
        out.setdefault(who, []).append(record)
    return out


def test_every_webhook_type_suppressions_and_apis(
    running: RunningSandbox, api: httpx.Client, pm: httpx.Client, receiver: Receiver
) -> None:
    rule = {"recipient": "*@slow.example.com", "outcome": "deferred", "attempts": 1}
    assert api.post("/api/v1/rules", json=rule).status_code == 200
    hook = make_webhook(
        pm,
        f"{receiver.url}/postmark",
        HttpAuth={"Username": "hook", "Password": "s3cret"},
        HttpHeaders=[{"Name": "X-Shop", "Value": "42"}],
    )
    assert hook["ID"] == 1 and hook["MessageStream"] == "outbound"
    assert hook["Triggers"]["Open"] == {"Enabled": True, "PostFirstOpenOnly": False}
    other = make_webhook(pm, f"{receiver.url}/broadcast", MessageStream="broadcast")
    assert [h["ID"] for h in pm.get("/webhooks").json()["Webhooks"]] == [1, 2]
    assert pm.get("/webhooks", params={"MessageStream": "broadcast"}).json()["Webhooks"] == [other]

    sent = pm.post("/email", json=message(
        To=", ".join(MAGIC), Tag="welcome", Metadata={"order": "7"},
        HtmlBody='<a href="https://example.com/go">go</a>',
    ))  # fmt: skip
    assert sent.status_code == 200, sent.text
    message_id = sent.json()["MessageID"]
    expected = sum(len(types) for types in MAGIC.values())
    found = by_recipient(records(receiver, expected))
    for recipient, types in MAGIC.items():
        assert sorted(r["RecordType"] for r in found[recipient]) == sorted(types), recipient
    for request in receiver.requests:
        assert request.path == "/postmark"  # nothing for the broadcast stream's webhook
        assert (
            request.headers["Authorization"] == "Basic " + base64.b64encode(b"hook:s3cret").decode()
        )
        assert request.headers["X-Shop"] == "42"
        body = request.json()
        assert body["MessageID"] == message_id and body["MessageStream"] == "outbound"
        assert body["Tag"] == "welcome" and body["Metadata"] == {"order": "7"}

    def one(recipient: str, kind: str) -> dict[str, Any]:
        return next(r for r in found[recipient] if r["RecordType"] == kind)

    hard = one("alice+bounce@example.com", "Bounce")
    assert (hard["Type"], hard["TypeCode"], hard["Inactive"]) == ("HardBounce", 1, True)
    assert hard["From"] == "shop@example.com" and hard["Subject"] == "Hello"
    test_hard = one("HardBounce@bounce-testing.postmarkapp.com", "Bounce")
    assert (test_hard["Type"], test_hard["TypeCode"]) == ("HardBounce", 1)
    soft = one("Soft_Bounce@bounce-testing.postmarkapp.com", "Bounce")
    assert (soft["Type"], soft["TypeCode"], soft["Inactive"]) == ("SoftBounce", 4096, False)
    assert one("frank@slow.example.com", "Bounce")["Type"] == "Transient"
    assert one("gina+reject@example.com", "Bounce")["Type"] == "BadEmailAddress"
    spam = one("dave+complaint@example.com", "SpamComplaint")
    assert (spam["Type"], spam["TypeCode"]) == ("SpamComplaint", 100001)
    assert one("carol+click@example.com", "Click")["OriginalLink"] == "https://example.com/"
    change = one("erin+unsubscribe@example.com", "SubscriptionChange")
    assert change["SuppressSending"] is True and change["SuppressionReason"] == "ManualSuppression"
    assert one("ok@example.com", "Delivery")["Details"].startswith("smtp;250")

    # the stream's suppression list: hard bounces, complaints, unsubscribes (not soft bounces)
    dump = pm.get("/message-streams/outbound/suppressions/dump").json()["Suppressions"]
    reasons = {s["EmailAddress"]: s["SuppressionReason"] for s in dump}
    assert reasons == {
        "alice+bounce@example.com": "HardBounce",
        "hardbounce@bounce-testing.postmarkapp.com": "HardBounce",
        "dave+complaint@example.com": "SpamComplaint",
        "erin+unsubscribe@example.com": "ManualSuppression",
    }
    refused = pm.post("/email", json=message(To="alice+bounce@example.com"))
    assert refused.status_code == 422 and refused.json()["ErrorCode"] == 406
    assert "Found inactive addresses: alice+bounce@example.com." in refused.json()["Message"]
    partial = pm.post("/email", json=message(To="alice+bounce@example.com, new@example.com"))
    assert partial.json()["Message"].startswith(
        "Message OK, but will not deliver to these inactive addresses: alice+bounce@example.com."
    )
    soft_again = pm.post("/email", json=message(To="softbounce@bounce-testing.postmarkapp.com"))
    assert soft_again.json()["ErrorCode"] == 0
    other_stream = pm.post(
        "/email", json=message(To="alice+bounce@example.com", MessageStream="broadcast")
    )
    assert other_stream.json()["ErrorCode"] == 0  # suppressions are per stream

    # Bounces API over the same events; activating takes the address off the list
    bounces = pm.get("/bounces", params={"count": 50, "offset": 0}).json()
    assert bounces["TotalCount"] >= 5
    alice = next(b for b in bounces["Bounces"] if b["Email"] == "alice+bounce@example.com")
    assert alice["Inactive"] is True and pm.get(f"/bounces/{alice['ID']}").json() == alice
    hard_only = pm.get("/bounces", params={"type": "HardBounce", "inactive": "true"}).json()
    assert {b["Type"] for b in hard_only["Bounces"]} == {"HardBounce"}
    activated = pm.put(f"/bounces/{alice['ID']}/activate").json()
    assert activated["Message"] == "OK" and activated["Bounce"]["Inactive"] is False
    assert pm.post("/email", json=message(To="alice+bounce@example.com")).json()["ErrorCode"] == 0
    stats = pm.get("/deliverystats").json()
    assert stats["Bounces"][0]["Name"] == "All" and stats["InactiveMails"] >= 2
    assert pm.get("/bounces/tags").json() == ["welcome"]

    # Suppressions API: add (ManualSuppression by Customer), delete (not spam complaints)
    added = pm.post("/message-streams/outbound/suppressions", json={"Suppressions": [
        {"EmailAddress": "manual@example.com"}, {"EmailAddress": "nope"}]}).json()  # fmt: skip
    assert [s["Status"] for s in added["Suppressions"]] == ["Suppressed", "Failed"]
    customer = pm.get(
        "/message-streams/outbound/suppressions/dump", params={"Origin": "Customer"}
    ).json()["Suppressions"]
    assert [s["EmailAddress"] for s in customer] == ["manual@example.com"]
    deleted = pm.post("/message-streams/outbound/suppressions/delete", json={"Suppressions": [
        {"EmailAddress": "manual@example.com"},
        {"EmailAddress": "dave+complaint@example.com"}]}).json()  # fmt: skip
    assert [s["Status"] for s in deleted["Suppressions"]] == ["Deleted", "Failed"]

    # Messages API: the send, its events, its dump
    search = pm.get("/messages/outbound", params={"tag": "welcome", "count": 10}).json()
    assert search["TotalCount"] == 1 and search["Messages"][0]["MessageID"] == message_id
    details = pm.get(f"/messages/outbound/{message_id}/details").json()
    types = {e["Type"] for e in details["MessageEvents"]}
    assert {"Delivered", "Bounced", "Opened", "LinkClicked", "Transient"} <= types
    assert details["Metadata"] == {"order": "7"} and details["TrackLinks"] == "None"
    dump_body = pm.get(f"/messages/outbound/{message_id}/dump").json()["Body"]
    assert f"{message_id}@" in dump_body
    opens = pm.get("/messages/outbound/opens", params={"count": 10}).json()
    assert opens["TotalCount"] == 2 and opens["Opens"][0]["RecordType"] == "Open"

    # webhooks API: edit and delete
    edited = pm.put("/webhooks/1", json={"Triggers": {"Open": {"Enabled": False}}}).json()
    assert edited["Triggers"]["Open"]["Enabled"] is False
    assert edited["Triggers"]["Delivery"]["Enabled"] is True
    assert pm.delete("/webhooks/2").json() == {"ErrorCode": 0, "Message": "Webhook 2 removed."}
    assert [h["ID"] for h in pm.get("/webhooks").json()["Webhooks"]] == [1]


def test_a_403_stops_the_retries(pm: httpx.Client) -> None:
    with Receiver(status=403) as refusing:
        make_webhook(pm, f"{refusing.url}/x")
        pm.post("/email", json=message())
        refusing.wait_for(1, accepted=False)

        eventually(lambda: pm.get("/api/v1/webhooks/deliveries").json()["outbox"] == {
            "stopped": 1})  # fmt: skip
        assert len(refusing.requests) == 1
