"""The Event Webhook objects rendered for the event engine, from a message sent through the API."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from mailsandbox.emulators.sendgrid.event_format import (
    SENDGRID_EVENT_NAMES,
    sendgrid_event,
    sendgrid_ids,
)
from mailsandbox.events import plans
from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import events, messages
from tests.emulators.sendgrid.helpers import listed, mail_body


@pytest.fixture(scope="module")
def sent(shared_http: httpx.Client, shared_running: RunningSandbox) -> messages.MessageSummary:
    """One message sent through the API (the module's only one)."""
    body = mail_body(categories=["welcome"], custom_args={"user_id": "7", "event": "mine"})
    body["personalizations"][0]["custom_args"] = {"order": "99"}
    assert shared_http.post("/v3/mail/send", json=body).status_code == 202
    summary = shared_running.sandbox.db.read_sync(
        lambda conn: messages.get_summary(conn, listed(shared_http)[0]["ID"])
    )
    assert summary is not None
    return summary


def test_vocabulary() -> None:
    assert set(SENDGRID_EVENT_NAMES) == set(events.TYPES)
    assert SENDGRID_EVENT_NAMES["complained"] == "spamreport"


def test_common_fields_and_custom_args(
    sent: messages.MessageSummary, shared_running: RunningSandbox
) -> None:
    stored = shared_running.sandbox.db.read_sync(lambda conn: events.for_message(conn, sent.id))
    queued = next(e for e in stored if e.type == "queued")  # later simulated events may follow
    out = sendgrid_event(queued, sent)
    assert out is not None
    meta = sent.metadata["sendgrid"]
    assert out["event"] == "processed"
    assert out["email"] == "bob@example.com"
    assert out["sg_message_id"] == meta["sg_message_id"]
    assert out["smtp-id"] == f"<{meta['x_message_id']}@mailsandbox>"
    assert out["sg_event_id"] == queued.id
    assert out["category"] == ["welcome"]
    assert (out["user_id"], out["order"]) == ("7", "99")
    assert out["event"] != "mine"  # SendGrid's own keys win over custom args
    assert isinstance(out["timestamp"], int)


@pytest.mark.parametrize(
    ("kind", "details", "expected"),
    [
        ("delivered", {}, {"event": "delivered", "response": "250 OK"}),
        ("bounced", {"status": "5.1.1"}, {"event": "bounce", "status": "5.1.1", "type": "bounce"}),
        ("rejected", {}, {"event": "dropped", "status": "5.0.0", "reason": "Bounced Address"}),
        ("deferred", {"attempt": 3}, {"event": "deferred", "attempt": "3"}),
        ("clicked", {"url": "https://x.example/"}, {"event": "click", "url": "https://x.example/"}),
        ("opened", {}, {"event": "open"}),
        ("complained", {}, {"event": "spamreport"}),
        ("unsubscribed", {}, {"event": "unsubscribe"}),
    ],
)
def test_per_type_fields(
    sent: messages.MessageSummary, kind: str, details: dict[str, object], expected: dict[str, str]
) -> None:
    event = events.DeliveryEvent(
        message_id=sent.id,
        type=kind,
        recipient="bob@example.com",
        details=details,
        id="evt1",
        created=1_700_000_000.5,
    )
    out = sendgrid_event(event, sent)
    assert out is not None
    assert out.items() >= expected.items()
    assert out["timestamp"] == 1_700_000_000


def test_unknown_type_has_no_equivalent(sent: messages.MessageSummary) -> None:
    event = events.DeliveryEvent(message_id=sent.id, type="stored")  # not a core type either
    assert sendgrid_event(event, sent) is None


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("550 5.1.1 No such user", ("bounce", "5.1.1", "Invalid Address")),
        ("552 5.2.2 Mailbox full", ("bounce", "5.2.2", "Mailbox Unavailable")),
        ("550 5.7.1 Rejected as spam", ("blocked", "5.7.1", "Reputation")),
        ("421 4.7.0 Try again later", ("blocked", "4.7.0", "Reputation")),
        ("554 5.6.0 Message content rejected", ("bounce", "5.6.0", "Content")),
    ],
)
def test_bounce_type_status_and_classification_follow_the_reply(
    sent: messages.MessageSummary, reply: str, expected: tuple[str, str, str]
) -> None:
    """A bounce whose reply says 4.x.x or 5.7.x is ``blocked``; ``status`` is the enhanced code;
    ``bounce_classification`` is one of the seven names of the classifications API."""
    step = plans.step("bounced", 0, reply)
    event = events.DeliveryEvent(sent.id, "bounced", "bob@example.com", reason=reply,
                                 code=step.code, details=step.details)  # fmt: skip
    out = sendgrid_event(event, sent)
    assert out is not None
    assert (out["type"], out["status"], out["bounce_classification"]) == expected
    assert out["reason"] == reply


@pytest.mark.parametrize("kind", [*SENDGRID_EVENT_NAMES, "stored"])
@pytest.mark.parametrize("details", [{}, {"sg_event_id": "own", "attempt": 2}])
def test_ids_are_those_of_the_event(
    sent: messages.MessageSummary, kind: str, details: dict[str, object]
) -> None:
    event = events.DeliveryEvent(
        message_id=sent.id, type=kind, recipient="bob@example.com", details=details, id="e1"
    )
    keys = ("sg_event_id", "sg_message_id", "smtp-id")
    bare = dataclasses.replace(sent, message_id="", metadata={})  # no SendGrid metadata
    for message in (sent, bare):
        wire = sendgrid_event(event, message) or {}
        ids = sendgrid_ids(event, message)
        assert list(ids.items()) == [(k, wire[k]) for k in keys if k in wire]
