"""Bounces as SendGrid reports them: a hard bounce goes on the bounces list with ``status`` the
enhanced code (``5.1.1``, OpenAPI example) and drops later sends; a refused message (``4.x.x``
or ``5.7.x`` reply) is a ``blocked`` bounce on the blocks list, which does not drop later sends
(twilio.com/docs/sendgrid/glossary/blocks); every bounce has a ``bounce_classification``,
counted by ``GET /v3/suppression/bounces/classifications``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from sendgrid import SendGridAPIClient

from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually


def body_of(response: Any) -> Any:
    return json.loads(response.body)


def send(sg: SendGridAPIClient, to: str) -> None:
    mail = {
        "personalizations": [{"to": [{"email": to}]}],
        "from": {"email": "shop@example.com"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi"}],
    }
    assert sg.client.mail.send.post(request_body=mail).status_code == 202


def test_bounce_kinds_lists_and_classifications(sg: SendGridAPIClient, http: httpx.Client) -> None:
    rules = [
        {"recipient": "spam@*", "outcome": "bounced", "reason": "550 5.7.1 Rejected as spam"},
        {"recipient": "gone@*", "outcome": "bounced", "reason": "550 5.1.1 No such user"},
        {"recipient": "full@*", "outcome": "bounced", "reason": "552 5.2.2 Mailbox full"},
    ]
    for rule in rules:
        assert http.post("/api/v1/rules", json=rule).status_code == 200
    with Receiver() as receiver:
        settings = {"enabled": True, "url": receiver.url, "bounce": True, "delivered": True}
        settings["dropped"] = True
        sg.client.user.webhooks.event.settings.patch(request_body=settings)
        for to in ("spam@example.com", "gone@example.com", "full@example.com"):
            send(sg, to)

        def bounces() -> dict[str, dict[str, Any]]:
            found = {
                e["email"]: e for r in receiver.accepted for e in r.json() if e["event"] == "bounce"
            }
            assert len(found) == 3
            return found

        found = eventually(bounces)
        assert {
            k: (v["type"], v["status"], v["bounce_classification"]) for k, v in found.items()
        } == {
            "spam@example.com": ("blocked", "5.7.1", "Reputation"),
            "gone@example.com": ("bounce", "5.1.1", "Invalid Address"),
            "full@example.com": ("bounce", "5.2.2", "Mailbox Unavailable"),
        }

        bounced = body_of(sg.client.suppression.bounces.get())
        assert {(b["email"], b["status"]) for b in bounced} == {
            ("gone@example.com", "5.1.1"),
            ("full@example.com", "5.2.2"),
        }
        assert bounced[0]["reason"].startswith("55")
        blocks = body_of(sg.client.suppression.blocks.get())
        assert [(b["email"], b["status"]) for b in blocks] == [("spam@example.com", "5.7.1")]

        # a bounced address is dropped next time; a blocked one is tried again (and its rule
        # makes it bounce again)
        send(sg, "gone@example.com")
        send(sg, "spam@example.com")

        def second_round() -> list[tuple[str, str]]:
            events = [(e["email"], e["event"]) for r in receiver.accepted for e in r.json()]
            assert ("gone@example.com", "dropped") in events
            assert events.count(("spam@example.com", "bounce")) == 2
            return events

        events = eventually(second_round)
        assert ("spam@example.com", "dropped") not in events

    today = datetime.now(UTC).date().isoformat()
    classes = http.get("/v3/suppression/bounces/classifications").json()
    assert classes == {
        "result": [
            {
                "date": today,
                "stats": [
                    {"classification": "Invalid Address", "count": 1},
                    {"classification": "Mailbox Unavailable", "count": 1},
                    {"classification": "Reputation", "count": 2},
                ],
            }
        ]
    }
    by_domain = http.get("/v3/suppression/bounces/classifications/Reputation").json()
    assert by_domain == {
        "result": [{"date": today, "stats": [{"domain": "example.com", "count": 2}]}]
    }
    earlier = http.get("/v3/suppression/bounces/classifications", params={"end_date": "2000-01-01"})
    assert earlier.json() == {"result": []}
    assert http.get("/v3/suppression/bounces/classifications/Nope").status_code == 404
