"""The event engine end to end over real SMTP and HTTP: lifecycles, magic addresses,
suppressions and user delivery rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from mailsandbox.events.engine import DRAIN_CHUNK
from mailsandbox.runner import RunningSandbox
from tests.sandbox.events.conftest import smtp_send, suppressed, types_of, wait_events

EVENT_KEYS = {"ID", "MessageID", "Recipient", "Type", "Created", "Reason", "Code", "Provider"}


def test_normal_recipient_is_delivered_shortly(running: RunningSandbox, api: httpx.Client) -> None:
    message_id = smtp_send(running, ["bob@example.com"])
    found = wait_events(api, message_id, lambda e: "delivered" in types_of(e), timeout=3)
    assert types_of(found) == ["queued", "delivered"]
    delivered = found[1]
    assert set(delivered) == EVENT_KEYS | {"Details"}
    assert delivered["Recipient"] == "bob@example.com"
    assert (delivered["Code"], delivered["Provider"]) == (250, "smtp")


def test_plus_bounce_suppresses_and_next_send_is_rejected(
    running: RunningSandbox, api: httpx.Client
) -> None:
    address = "alice+bounce@example.com"
    first = smtp_send(running, [address])
    bounce = wait_events(api, first, lambda e: "bounced" in types_of(e))[-1]
    assert bounce["Code"] == 550 and bounce["Details"]["status"] == "5.1.1"
    assert suppressed(running, address) == ["bounce"]
    second = smtp_send(running, [address])
    found = wait_events(api, second, lambda e: "rejected" in types_of(e))
    assert types_of(found) == ["queued", "rejected"]
    assert found[-1]["Reason"] == "Bounced Address"


@pytest.mark.parametrize(
    ("address", "expected", "listed"),
    [
        ("carol+open@example.com", ["queued", "delivered", "opened"], []),
        ("carol+click@example.com", ["queued", "delivered", "opened", "clicked"], []),
        ("carol+complaint@example.com", ["queued", "delivered", "complained"], ["spam_report"]),
        ("carol+unsubscribe@example.com", ["queued", "delivered", "unsubscribed"], ["unsubscribe"]),
        ("success@simulator.amazonses.com", ["queued", "delivered"], []),
        # AWS: the mailbox simulator's addresses are never put on a suppression list
        ("bounce@simulator.amazonses.com", ["queued", "bounced"], []),
        ("complaint@simulator.amazonses.com", ["queued", "delivered", "complained"], []),
    ],
)
def test_magic_addresses(
    shared_running: RunningSandbox,
    shared_api: httpx.Client,
    address: str,
    expected: list[str],
    listed: list[str],
) -> None:
    message_id = smtp_send(shared_running, [address])
    found = wait_events(shared_api, message_id, lambda e: len(e) >= len(expected))
    assert types_of(found) == expected
    assert suppressed(shared_running, address) == listed
    if "clicked" in expected:
        assert found[-1]["Details"]["url"] == "https://example.com/"


def test_each_recipient_has_its_own_lifecycle(running: RunningSandbox, api: httpx.Client) -> None:
    rcpts = ["a@example.com", "b+bounce@example.com"]
    message_id = smtp_send(running, rcpts)
    found = wait_events(api, message_id, lambda e: len(e) >= 4)
    assert types_of(found, rcpts[0]) == ["queued", "delivered"]
    assert types_of(found, rcpts[1]) == ["queued", "bounced"]


def test_deferred_is_retried_then_ends_as_the_rule_says(
    running: RunningSandbox, api: httpx.Client
) -> None:
    rule = {"recipient": "slow*@example.com", "outcome": "deferred", "attempts": 1}
    assert api.post("/api/v1/rules", json={**rule, "then": "bounced"}).status_code == 200
    message_id = smtp_send(running, ["slow@example.com"])
    found = wait_events(api, message_id, lambda e: "bounced" in types_of(e), timeout=5)
    assert types_of(found) == ["queued", "deferred", "bounced"]
    deferred, bounced = found[1], found[2]
    assert deferred["Code"] == 421 and deferred["Details"]["attempt"] == 1
    assert bounced["Details"]["attempt"] == 2
    assert suppressed(running, "slow@example.com") == ["bounce"]


def test_plus_defer_ends_delivered(running: RunningSandbox, api: httpx.Client) -> None:
    message_id = smtp_send(running, ["dan+defer@example.com"])
    found = wait_events(api, message_id, lambda e: "delivered" in types_of(e), timeout=8)
    assert types_of(found) == ["queued", "deferred", "deferred", "delivered"]


@pytest.mark.parametrize(
    ("match", "fires"),
    [
        ({"subject": "*invoice*"}, True),
        ({"subject": "*receipt*"}, False),
        ({"sender": "billing@*"}, True),
        ({"source": "sendgrid"}, False),
        ({"probability": 0}, False),
        ({"probability": 100}, True),
    ],
)
def test_user_rule_matching(
    shared_running: RunningSandbox,
    shared_api: httpx.Client,
    match: dict[str, object],
    fires: bool,
) -> None:
    rule = {"outcome": "bounced", "reason": "550 5.7.1 Blocked by rule", **match}
    assert shared_api.post("/api/v1/rules", json=rule).status_code == 200
    erin = f"erin-{uuid.uuid4().hex}@example.com"  # a bounce lists the address: use a fresh one
    message_id = smtp_send(shared_running, [erin], "Your invoice", "billing@shop.test")
    done: Callable[[list[dict[str, object]]], bool] = lambda e: len(e) >= 2  # noqa: E731
    found = wait_events(shared_api, message_id, done)
    assert types_of(found)[-1] == ("bounced" if fires else "delivered")
    if fires:
        assert found[-1]["Reason"] == "550 5.7.1 Blocked by rule"


def test_scheduled_steps_resume_after_restart(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    first = sandbox_factory()
    with httpx.Client(base_url=first.url) as api:
        rule = {"recipient": "later@example.com", "outcome": "deferred", "attempts": 1}
        api.post("/api/v1/rules", json={**rule, "then": "bounced"})
        message_id = smtp_send(first, ["later@example.com"])
        wait_events(api, message_id, lambda e: "deferred" in types_of(e))
    first.stop()  # the final bounce is still 1 s away
    second = sandbox_factory()
    with httpx.Client(base_url=second.url) as api:
        found = wait_events(api, message_id, lambda e: "bounced" in types_of(e), timeout=5)
    assert types_of(found) == ["queued", "deferred", "bounced"]


def test_a_backlog_of_due_steps_bigger_than_a_drain_chunk_is_applied_once_each(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """Steps left by a stop fall due together after the restart: more than one drain
    transaction's worth (``DRAIN_CHUNK``), applied in chunks, each exactly once. (One message
    to every recipient: their steps share one schedule, so no bounce can fall due while the
    others are still being sent, as with a message each on a loaded machine; a bounce puts
    its address on a suppression list, and a later message to it would be rejected.)"""
    count = 3 * DRAIN_CHUNK + 7
    recipients = [f"backlog{n}@example.com" for n in range(count)]
    first = sandbox_factory()
    with httpx.Client(base_url=first.url) as api:
        rule = {"recipient": "backlog*@example.com", "outcome": "deferred", "attempts": 1}
        api.post("/api/v1/rules", json={**rule, "then": "bounced"}).raise_for_status()
        message_id = smtp_send(first, recipients)
        wait_events(api, message_id, lambda e: types_of(e).count("deferred") == count)
    first.stop()  # every final bounce is still ~1 s away
    second = sandbox_factory()
    with httpx.Client(base_url=second.url) as api:
        found = wait_events(api, message_id, lambda e: types_of(e).count("bounced") == count)
    for recipient in recipients:
        assert types_of(found, recipient) == ["queued", "deferred", "bounced"], recipient
