"""The Events API against the real event engine: accepted at send, delivered / failed from the
engine's plan (magic ``+bounce`` recipients), clicks and deferrals triggered through
``POST /api/v1/message/{id}/events``; filters; paging walked to the end with the SDK and by URL."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from mailgun.client import Client

from mailsandbox.runner import RunningSandbox
from tests.emulators.mailgun.conftest import DOMAIN, stored, wait_for_events

TOTAL = 3 * 4 + 2  # 3 messages x (2 accepted, 1 delivered, 1 failed) + a click and a deferral


@pytest.fixture(scope="module")
def history(shared_mg: Client, shared_api: httpx.Client) -> list[str]:
    """Read-only event history shared by the module's tests."""
    mg, api = shared_mg, shared_api
    ids = []
    for n in range(3):
        answer = mg.messages.create(
            domain=DOMAIN,
            data={
                "from": "Ann <ann@mg.example.com>",
                "to": [f"r{n}a@example.com", f"r{n}b+bounce@example.com"],
                "subject": f"Message {n}",
                "text": "x",
                "o:tag": f"t{n}",
                "v:n": str(n),
            },
        )
        assert answer.status_code == 200
        ids.append(answer.json()["id"])
    wait_for_events(mg, 12)
    first, _, third = (m["ID"] for m in stored(api))
    click = {"type": "clicked", "recipient": "r0a@example.com", "url": "https://x.test/a"}
    assert api.post(f"/api/v1/message/{first}/events", json=click).status_code == 200
    defer = {"type": "deferred", "recipient": "r2a@example.com", "reason": "Try later"}
    assert api.post(f"/api/v1/message/{third}/events", json=defer).status_code == 200
    wait_for_events(mg, TOTAL)
    return ids


def _walk_urls(api: httpx.Client, url: str) -> list[dict[str, Any]]:
    """Follow ``paging.next`` the way mailgun.js does: the token is the last path segment."""
    items: list[dict[str, Any]] = []
    for _ in range(50):
        page = api.get(url).json()
        if not page["items"]:
            return items
        items += page["items"]
        next_url = page["paging"]["next"]
        assert next_url.startswith("http://127.0.0.1:")
        token = urlsplit(next_url).path.split("/")[-1]
        url = f"/v3/{DOMAIN}/events/{token}"
    raise AssertionError("paging never ended")


def test_sdk_stream_walks_every_event_once(shared_mg: Client, history: list[str]) -> None:
    items = list(shared_mg.events.stream(domain=DOMAIN, filters={"limit": 3}))
    assert len(items) == TOTAL and len({i["id"] for i in items}) == TOTAL
    stamps = [i["timestamp"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    names = sorted(i["event"] for i in items)
    assert names == sorted(["accepted"] * 6 + ["delivered"] * 3 + ["failed"] * 4 + ["clicked"])


def test_paging_urls_are_absolute_with_the_token_last(
    shared_mg: Client, shared_api: httpx.Client, history: list[str]
) -> None:
    walked = _walk_urls(shared_api, f"/v3/{DOMAIN}/events?limit=4&ascending=yes")
    assert len(walked) == TOTAL and len({i["id"] for i in walked}) == TOTAL
    assert [i["timestamp"] for i in walked] == sorted(i["timestamp"] for i in walked)
    first = shared_mg.events.get(domain=DOMAIN, filters={"limit": 3}).json()
    second = httpx.get(first["paging"]["next"]).json()
    assert {i["id"] for i in second["items"]}.isdisjoint(i["id"] for i in first["items"])
    back = httpx.get(second["paging"]["previous"]).json()
    assert [i["id"] for i in back["items"]] == [i["id"] for i in first["items"]]
    last = httpx.get(first["paging"]["last"]).json()
    assert last["items"][-1]["event"] == "accepted"  # the oldest event ends the last page


def test_items_have_mailgun_shape(shared_mg: Client, history: list[str]) -> None:
    failed = shared_mg.events.get(domain=DOMAIN, filters={"event": "failed"}).json()["items"]
    permanent = [i for i in failed if i["severity"] == "permanent"]
    [temporary] = [i for i in failed if i["severity"] == "temporary"]
    assert len(permanent) == 3
    bounce = next(i for i in permanent if i["recipient"] == "r1b+bounce@example.com")
    assert bounce["reason"] == "bounce" and bounce["log-level"] == "error"
    assert bounce["delivery-status"]["code"] == 550
    assert bounce["message"]["headers"]["message-id"] == history[1].strip("<>")
    assert bounce["tags"] == ["t1"] and bounce["user-variables"] == {"n": "1"}
    assert bounce["recipient-domain"] == "example.com"
    assert bounce["envelope"]["sender"] == "ann@mg.example.com"
    assert temporary["log-level"] == "warn" and temporary["recipient"] == "r2a@example.com"
    assert temporary["delivery-status"]["message"] == "Try later"
    [click] = shared_mg.events.get(domain=DOMAIN, filters={"event": "clicked"}).json()["items"]
    assert click["url"] == "https://x.test/a" and "client-info" in click
    delivered = shared_mg.events.get(domain=DOMAIN, filters={"event": "delivered"}).json()["items"]
    assert {i["delivery-status"]["code"] for i in delivered} == {250}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"event": "delivered OR failed"}, 7),
        ({"event": "NOT accepted"}, 8),
        ({"severity": "temporary"}, 1),
        ({"event": "failed", "severity": "permanent"}, 3),
        ({"recipient": "r0a@example.com"}, 3),
        ({"to": "r1b+bounce@example.com"}, 4),
        ({"tags": "t2"}, 5),
        ({"tags": "NOT t2"}, 9),
        ({"subject": "Message 1"}, 4),
        ({"from": "ann@mg.example.com"}, TOTAL),
        ({"from": "nobody@example.com"}, 0),
    ],
)
def test_filters(
    shared_mg: Client, history: list[str], filters: dict[str, str], expected: int
) -> None:
    items = shared_mg.events.get(domain=DOMAIN, filters={**filters, "limit": 300}).json()["items"]
    assert len(items) == expected


def test_message_id_and_time_filters(shared_mg: Client, history: list[str]) -> None:
    items = shared_mg.events.get(domain=DOMAIN, filters={"message-id": history[1]}).json()["items"]
    assert len(items) == 4
    everything = shared_mg.events.get(domain=DOMAIN, filters={"ascending": "yes"}).json()["items"]
    middle = everything[5]["timestamp"]
    after = shared_mg.events.get(domain=DOMAIN, filters={"begin": str(middle), "ascending": "yes"})
    assert [i["id"] for i in after.json()["items"]] == [i["id"] for i in everything[5:]]
    window = shared_mg.events.get(domain=DOMAIN, filters={"begin": str(middle), "end": str(middle)})
    assert [i["id"] for i in window.json()["items"]] == [everything[5]["id"]]


def test_only_this_domains_mailgun_messages_appear(
    mg: Client, smtp: smtplib.SMTP, running: RunningSandbox
) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@mg.example.com", "b@example.com", "smtp"
    msg.set_content("x")
    smtp.send_message(msg)
    mg.messages.create(
        domain="other.example.org",
        data={"from": "a@other.example.org", "to": "b@example.com", "text": "x"},
    )
    items = wait_for_events(mg, 2, "other.example.org")
    assert sorted(i["event"] for i in items) == ["accepted", "delivered"]
    assert items[0]["storage"]["url"].startswith(running.url)
    assert mg.events.get(domain=DOMAIN).json()["items"] == []
