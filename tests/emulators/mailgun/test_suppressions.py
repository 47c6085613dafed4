"""Suppression lists through the SDK: add (form, JSON, CSV import), get, list with paging,
delete one, delete all; stored in the shared tables with scope = domain."""

from __future__ import annotations

import json

import httpx
from mailgun.client import Client

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import suppressions
from tests.emulators.mailgun.conftest import DOMAIN, wait_for_events

JSON = {"Content-Type": "application/json"}


def test_bounces_lifecycle(mg: Client, running: RunningSandbox) -> None:
    added = mg.bounces.create(
        domain=DOMAIN, data={"address": "Bob@Example.com", "code": "550", "error": "No mailbox"}
    )
    assert added.json() == {
        "message": "Address has been added to the bounces table",
        "address": "bob@example.com",
    }
    got = mg.bounces.get(domain=DOMAIN, bounce_address="bob@example.com").json()
    assert got["address"] == "bob@example.com" and got["code"] == "550"
    assert got["error"] == "No mailbox" and got["created_at"].endswith("GMT")
    entry = running.sandbox.db.read_sync(
        lambda conn: suppressions.get(conn, "bounce", "bob@example.com", DOMAIN)
    )
    assert entry is not None and entry.reason == "No mailbox"
    assert mg.bounces.get(domain="other.example.org").json()["items"] == []

    removed = mg.bounces.delete(domain=DOMAIN, bounce_address="bob@example.com")
    assert removed.json() == {
        "address": "bob@example.com",
        "message": "Bounced address has been removed",
    }
    missing = mg.bounces.get(domain=DOMAIN, bounce_address="bob@example.com")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Address not found in bounces table"}
    assert mg.bounces.delete(domain=DOMAIN, bounce_address="bob@example.com").status_code == 404


def test_json_array_import_and_paging_to_the_end(mg: Client, api: httpx.Client) -> None:
    batch = [{"address": f"user{i:02d}@example.com", "error": "gone"} for i in range(25)]
    answer = api.post(f"/v3/{DOMAIN}/bounces", content=json.dumps(batch), headers=JSON)
    assert answer.json() == {"message": "25 addresses have been added to the bounces table"}
    one = mg.bounces.create(domain=DOMAIN, data={"address": "zed@example.com"}, headers=JSON)
    assert one.json()["address"] == "zed@example.com"

    streamed = [i["address"] for i in mg.bounces.stream(domain=DOMAIN, filters={"limit": 10})]
    assert streamed == [f"user{i:02d}@example.com" for i in range(25)] + ["zed@example.com"]

    page = mg.bounces.get(domain=DOMAIN, filters={"limit": 10}).json()
    assert page["paging"]["next"].startswith("http://127.0.0.1:")
    second = httpx.get(page["paging"]["next"]).json()
    assert second["items"][0]["address"] == "user10@example.com"
    back = httpx.get(second["paging"]["previous"]).json()
    assert [i["address"] for i in back["items"]] == [i["address"] for i in page["items"]]
    last = httpx.get(page["paging"]["last"]).json()
    assert last["items"][-1]["address"] == "zed@example.com"

    cleared = mg.bounces.delete(domain=DOMAIN)
    assert cleared.json() == {"message": "Bounced addresses for this domain have been removed"}
    assert mg.bounces.get(domain=DOMAIN).json()["items"] == []


def test_unsubscribes_complaints_whitelists(mg: Client) -> None:
    mg.unsubscribes.create(domain=DOMAIN, data={"address": "u@example.com", "tag": "news"})
    [unsub] = mg.unsubscribes.get(domain=DOMAIN).json()["items"]
    assert unsub["address"] == "u@example.com" and unsub["tags"] == ["news"]
    removed = mg.unsubscribes.delete(domain=DOMAIN, unsubscribe_address="u@example.com")
    assert removed.json()["message"] == "Unsubscribe event has been removed"

    mg.complaints.create(domain=DOMAIN, data={"address": "c@example.com"})
    got = mg.complaints.get(domain=DOMAIN, complaint_address="c@example.com").json()
    assert got["address"] == "c@example.com" and "created_at" in got
    removed = mg.complaints.delete(domain=DOMAIN, complaint_address="c@example.com")
    assert removed.json()["message"] == "Spam complaint has been removed"

    mg.whitelists.create(domain=DOMAIN, data={"domain": "trusted.example.com"})
    mg.whitelists.create(domain=DOMAIN, data={"address": "vip@example.com", "reason": "boss"})
    items = mg.whitelists.get(domain=DOMAIN).json()["items"]
    assert {(i["value"], i["type"]) for i in items} == {
        ("trusted.example.com", "domain"),
        ("vip@example.com", "address"),
    }
    removed = mg.whitelists.delete(domain=DOMAIN, whitelist_address="vip@example.com")
    assert removed.json()["message"] == "Whitelist address/domain has been removed"


def test_csv_import(mg: Client) -> None:
    csv_text = "address,code,error\na@example.com,550,gone\nb@example.com,551,moved\n"
    answer = mg.bounces_import.create(
        domain=DOMAIN, files={"file": ("bounces.csv", csv_text.encode())}
    )
    assert answer.status_code == 200
    items = mg.bounces.get(domain=DOMAIN).json()["items"]
    assert [(i["address"], i["code"]) for i in items] == [
        ("a@example.com", "550"),
        ("b@example.com", "551"),
    ]


def test_bad_suppression_requests(shared_api: httpx.Client) -> None:
    url = f"/v3/{DOMAIN}/bounces"
    assert shared_api.post(url, data={"code": "550"}).json() == {
        "message": "'address' parameter is missing"
    }
    assert shared_api.post(url, content=b"[nope", headers=JSON).status_code == 400
    assert shared_api.post(url, content=b"[1, 2]", headers=JSON).status_code == 400
    assert shared_api.get(url, params={"limit": "0"}).status_code == 400
    assert shared_api.get(f"/v3/{DOMAIN}/spam").status_code == 404


def test_sending_to_a_bounced_address_fails_with_suppress_bounce(mg: Client) -> None:
    mg.bounces.create(domain=DOMAIN, data={"address": "gone@example.com", "error": "old"})
    data = {"from": "a@mg.example.com", "to": "gone@example.com", "subject": "s", "text": "t"}
    assert mg.messages.create(domain=DOMAIN, data=data).status_code == 200
    items = wait_for_events(mg, 2)
    failed = next(i for i in items if i["event"] == "failed")
    assert failed["severity"] == "permanent" and failed["reason"] == "suppress-bounce"
    assert failed["recipient"] == "gone@example.com"
    assert mg.bounces.get(domain="other.example.org").json()["items"] == []  # per domain
