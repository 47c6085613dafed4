"""Interface 3 over real HTTP: triggering and listing events, tracking links, the rules API
(validation errors included) and rules loaded from ``--rules-file``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.sandbox.events.conftest import smtp_send, suppressed, types_of, wait_events


def delivered(api: httpx.Client, message_id: str) -> None:
    wait_events(api, message_id, lambda e: "delivered" in types_of(e))


@pytest.mark.parametrize(
    ("kind", "listed"),
    [
        ("bounced", ["bounce"]),
        ("complained", ["spam_report"]),
        ("unsubscribed", ["unsubscribe"]),
        ("opened", []),
        ("deferred", []),
        ("rejected", []),
    ],
)
def test_trigger_event_stores_it_and_updates_suppressions(
    running: RunningSandbox, api: httpx.Client, kind: str, listed: list[str]
) -> None:
    message_id = smtp_send(running, ["ann@example.com", "ben@example.com"])
    delivered(api, message_id)
    body = {"type": kind, "recipient": "ben@example.com", "reason": "because"}
    response = api.post(f"/api/v1/message/{message_id}/events", json=body)
    assert response.status_code == 200, response.text
    event = response.json()
    assert (event["Type"], event["Recipient"], event["Reason"]) == (
        kind,
        "ben@example.com",
        "because",
    )
    assert event["MessageID"] == message_id and event["Details"]["manual"] is True
    listed_events = api.get(f"/api/v1/message/{message_id}/events").json()["events"]
    assert listed_events[-1] == event
    assert suppressed(running, "ben@example.com") == listed
    assert suppressed(running, "ann@example.com") == []


def test_trigger_defaults_to_first_recipient_and_keeps_click_url(
    running: RunningSandbox, api: httpx.Client
) -> None:
    message_id = smtp_send(running, ["first@example.com", "second@example.com"])
    body = {"type": "clicked", "url": "https://shop.test/cart"}
    event = api.post(f"/api/v1/message/{message_id}/events", json=body).json()
    assert event["Recipient"] == "first@example.com"
    assert event["Details"]["url"] == "https://shop.test/cart"


def test_latest_names_the_newest_message_on_event_routes(
    running: RunningSandbox, api: httpx.Client
) -> None:
    smtp_send(running, ["old@example.com"])
    newest = smtp_send(running, ["new@example.com"])
    event = api.post("/api/v1/message/latest/events", json={"type": "opened"}).json()
    assert (event["MessageID"], event["Recipient"]) == (newest, "new@example.com")
    listed = api.get("/api/v1/message/latest/events").json()["events"]
    assert event in listed  # the simulated delivery may be recorded before or after it
    query = {"query": "to:old@example.com"}
    older = api.get("/api/v1/message/latest/tracking", params=query).json()
    assert list(older) == ["old@example.com"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"type": "exploded"}, 400),
        ({"type": "queued"}, 400),
        ({}, 400),
        ({"type": "bounced", "recipient": 5}, 400),
        ("not an object", 400),
    ],
)
def test_trigger_rejects_bad_bodies(
    shared_running: RunningSandbox, shared_api: httpx.Client, body: object, status: int
) -> None:
    message_id = smtp_send(shared_running, ["x@example.com"])
    response = shared_api.post(f"/api/v1/message/{message_id}/events", json=body)
    assert response.status_code == status
    assert "Error" in response.json()


def test_unknown_message_is_404(shared_api: httpx.Client) -> None:
    assert shared_api.get("/api/v1/message/nope/events").status_code == 404
    response = shared_api.post("/api/v1/message/nope/events", json={"type": "bounced"})
    assert response.status_code == 404 and response.json() == {"Error": "Message not found"}


def test_invalid_json_is_400(shared_api: httpx.Client) -> None:
    response = shared_api.post("/api/v1/message/x/events", content=b"{nope")
    assert response.status_code == 400


def test_tracking_pixel_and_click_redirect(running: RunningSandbox, api: httpx.Client) -> None:
    message_id = smtp_send(running, ["reader@example.com"])
    delivered(api, message_id)
    urls = api.get(f"/api/v1/message/{message_id}/tracking").json()["reader@example.com"]
    pixel = httpx.get(urls["Open"])
    assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
    click = httpx.get(urls["Click"] + "https%3A%2F%2Fshop.test%2Fa%3Fb%3D1")
    assert click.status_code == 302 and click.headers["location"] == "https://shop.test/a?b=1"
    found = wait_events(api, message_id, lambda e: "clicked" in types_of(e))
    assert types_of(found) == ["queued", "delivered", "opened", "clicked"]
    assert found[-1]["Details"]["url"] == "https://shop.test/a?b=1"
    assert httpx.get(urls["Click"] + "javascript:alert(1)").status_code == 400
    assert httpx.get(f"{running.url}/t/click/garbage?url=https://x.test/").status_code == 404


def test_rules_crud(api: httpx.Client) -> None:
    assert api.get("/api/v1/rules").json() == {"rules": []}
    rule = {"recipient": "*@flaky.test", "outcome": "deferred", "probability": 50, "delay": 1}
    created = api.post("/api/v1/rules", json=rule).json()
    assert created["id"] and created["outcome"] == "deferred" and created["probability"] == 50
    assert api.get("/api/v1/rules").json()["rules"] == [created]
    assert api.delete(f"/api/v1/rules/{created['id']}").status_code == 200
    assert api.get("/api/v1/rules").json() == {"rules": []}
    missing = api.delete(f"/api/v1/rules/{created['id']}")
    assert missing.status_code == 404 and missing.json() == {"Error": "Rule not found"}


@pytest.mark.parametrize(
    "rule",
    [
        {"outcome": "exploded"},
        {"stage": "RCPT", "reply": "250 fine"},
        {"stage": "HELO", "reply": "550 no"},
        {"outcome": "bounced", "probability": 101},
        {"outcome": "bounced", "delay": -1},
        {"outcome": "bounced", "colour": "red"},
        {"outcome": "bounced", "probability": "half"},
        {"outcome": "deferred", "then": "opened"},
    ],
)
def test_bad_rules_are_400(shared_api: httpx.Client, rule: dict[str, object]) -> None:
    response = shared_api.post("/api/v1/rules", json=rule)
    assert response.status_code == 400
    assert response.json()["Error"]


def test_rules_file_is_loaded_at_start(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    path = tmp_path / "rules.json"
    rules = [
        {"recipient": "vip@*", "outcome": "opened"},
        {"stage": "MAIL", "reply": "disconnect", "sender": "spam@*"},
    ]
    path.write_text(json.dumps({"rules": rules}))
    running = sandbox_factory(rules_file=str(path))
    with httpx.Client(base_url=running.url) as api:
        listed = api.get("/api/v1/rules").json()["rules"]
        assert [(r["origin"], r["stage"]) for r in listed] == [
            ("file", "delivery"),
            ("file", "MAIL"),
        ]
        message_id = smtp_send(running, ["vip@example.com"])
        found = wait_events(api, message_id, lambda e: "opened" in types_of(e))
        assert types_of(found) == ["queued", "delivered", "opened"]


def sendgrid_html(api: httpx.Client, tracked: bool) -> str:
    body = {
        "personalizations": [{"to": [{"email": "reader@example.com"}]}],
        "from": {"email": "shop@example.com"},
        "subject": "Tracked",
        "content": [
            {
                "type": "text/html",
                "value": '<p><a href="https://shop.test/a?b=1&amp;c=2">Shop</a></p>',
            }
        ],
        "tracking_settings": {
            "click_tracking": {"enable": tracked},
            "open_tracking": {"enable": tracked},
        },
    }
    sent = api.post("/v3/mail/send", json=body, headers={"Authorization": "Bearer SG.x"})
    assert sent.status_code == 202, sent.text
    return str(api.get("/api/v1/messages").json()["messages"][0]["ID"])


def test_recipient_view_rewrites_links_when_tracking_was_asked(api: httpx.Client) -> None:
    message_id = sendgrid_html(api, tracked=True)
    urls = api.get(f"/api/v1/message/{message_id}/tracking").json()["reader@example.com"]
    view = httpx.get(urls["View"])
    assert view.status_code == 200 and "sandbox" in view.headers["content-security-policy"]
    assert urls["Click"] + "https%3A%2F%2Fshop.test%2Fa%3Fb%3D1%26c%3D2" in view.text
    assert urls["Open"] in view.text
    assert httpx.get(urls["Open"]).status_code == 200
    click = httpx.get(urls["Click"] + "https%3A%2F%2Fshop.test%2Fa%3Fb%3D1%26c%3D2")
    assert click.headers["location"] == "https://shop.test/a?b=1&c=2"
    found = wait_events(api, message_id, lambda e: "clicked" in types_of(e))
    assert {"opened", "clicked"} <= set(types_of(found))


def test_recipient_view_untouched_without_tracking(api: httpx.Client) -> None:
    message_id = sendgrid_html(api, tracked=False)
    urls = api.get(f"/api/v1/message/{message_id}/tracking").json()["reader@example.com"]
    view = httpx.get(urls["View"])
    assert 'href="https://shop.test/a?b=1&amp;c=2"' in view.text and "/t/open/" not in view.text


def test_live_rules_survive_a_restart(sandbox_factory: Callable[..., RunningSandbox]) -> None:
    first = sandbox_factory()
    with httpx.Client(base_url=first.url) as api:
        kept = api.post("/api/v1/rules", json={"recipient": "a@*", "outcome": "bounced"}).json()
        gone = api.post("/api/v1/rules", json={"stage": "MAIL", "reply": "disconnect"}).json()
        assert api.delete(f"/api/v1/rules/{gone['id']}").status_code == 200
    first.stop()
    second = sandbox_factory()
    with httpx.Client(base_url=second.url) as api:
        assert api.get("/api/v1/rules").json() == {"rules": [kept]}
