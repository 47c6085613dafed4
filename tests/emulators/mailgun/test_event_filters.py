"""Every filter of the Events API returns exactly the unfiltered items that match it, including
``event=failed``, which must list the ``suppress-*`` failures (a second send to a bounced
address) as well as bounces and deferrals (mailgun/documentation ``api-events.rst``: "Filter
Field", and the "Failed (Permanent)" example with ``reason: suppress-bounce``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from mailgun.client import Client

from mailsandbox.runner import start_in_thread
from tests.conftest import make_settings
from tests.emulators.mailgun.conftest import DOMAIN
from tests.waiting import eventually

Item = dict[str, Any]
EXPECTED_EVENTS = 16  # see the fixture


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two sends whose events cover every type, severity and suppression."""
    running = start_in_thread(make_settings(tmp_path_factory.mktemp("filters")))
    api = httpx.Client(base_url=running.url, timeout=30)
    rule = {"recipient": "*@slow.example.com", "outcome": "deferred", "attempts": 1}
    assert api.post("/api/v1/rules", json=rule).status_code == 200
    with Client(auth=("api", "key-f"), api_url=running.url) as mg:
        first = {
            "from": f"Shop <shop@{DOMAIN}>",
            "to": [
                "ok@example.com",
                "alice+bounce@example.com",
                "bob+open@example.com",
                "gina+reject@example.com",
                "frank@slow.example.com",
            ],
            "subject": "First offer",
            "text": "hello",
            "o:tag": ["t1"],
        }
        assert mg.messages.create(domain=DOMAIN, data=first).status_code == 200
        eventually(lambda: len(all_items(mg)) == 12, timeout=20)  # the bounce is recorded
        second = {
            "from": f"Other <other@{DOMAIN}>",
            "to": ["alice+bounce@example.com", "carol@example.com"],
            "subject": "Second offer",
            "text": "again",
            "o:tag": ["t2"],
        }
        answer = mg.messages.create(domain=DOMAIN, data=second)
        assert answer.status_code == 200
        eventually(lambda: len(all_items(mg)) == EXPECTED_EVENTS, timeout=20)
        yield mg, answer.json()["id"].strip("<>")
    api.close()
    running.stop()


def all_items(mg: Client, **filters: str) -> list[Item]:
    response = mg.events.get(domain=DOMAIN, filters={"limit": 300, **filters})
    assert response.status_code == 200, response.text
    items: list[Item] = response.json()["items"]
    return items


def contains(path: tuple[str, ...], part: str) -> Callable[[Item], bool]:
    def check(item: Item) -> bool:
        value: Any = item
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        return part.lower() in str(value).lower()

    return check


HEADERS = ("message", "headers")
CASES: list[tuple[dict[str, str], Callable[[Item], bool]]] = [
    ({"event": "accepted"}, lambda i: i["event"] == "accepted"),
    ({"event": "delivered"}, lambda i: i["event"] == "delivered"),
    ({"event": "failed"}, lambda i: i["event"] == "failed"),
    ({"event": "rejected"}, lambda i: i["event"] == "rejected"),
    ({"event": "opened"}, lambda i: i["event"] == "opened"),
    ({"event": "failed OR opened"}, lambda i: i["event"] in ("failed", "opened")),
    ({"event": "NOT accepted"}, lambda i: i["event"] != "accepted"),
    ({"severity": "permanent"}, lambda i: i.get("severity") == "permanent"),
    ({"severity": "temporary"}, lambda i: i.get("severity") == "temporary"),
    (
        {"recipient": "alice+bounce@example.com"},
        lambda i: i["recipient"] == "alice+bounce@example.com",
    ),
    ({"from": "other"}, contains((*HEADERS, "from"), "other")),
    ({"to": "carol"}, contains((*HEADERS, "to"), "carol")),
    ({"subject": "Second"}, contains((*HEADERS, "subject"), "second")),
    ({"tags": "t2"}, lambda i: "t2" in i["tags"]),
    ({"tags": "NOT t2"}, lambda i: "t2" not in i["tags"]),
    ({"event": "failed", "severity": "permanent"}, lambda i: i.get("severity") == "permanent"),
]


@pytest.mark.parametrize(("filters", "matches"), CASES, ids=[str(c[0]) for c in CASES])
def test_filter_matches_the_unfiltered_list(
    world: Any, filters: dict[str, str], matches: Callable[[Item], bool]
) -> None:
    mg, _ = world
    everything = all_items(mg)
    assert len(everything) == EXPECTED_EVENTS
    expected = [i["id"] for i in everything if matches(i)]
    assert expected, "a filter that matches nothing proves nothing"
    assert [i["id"] for i in all_items(mg, **filters)] == expected


def test_message_id_filter(world: Any) -> None:
    mg, second_id = world
    everything = all_items(mg)
    expected = [i["id"] for i in everything if i["message"]["headers"]["message-id"] == second_id]
    assert len(expected) == 4
    assert [i["id"] for i in all_items(mg, **{"message-id": second_id})] == expected


def test_failed_lists_the_suppressed_send(world: Any) -> None:
    """The issue's case: the second send to a bounced address is a ``failed`` event with reason
    ``suppress-bounce``, listed under ``event=failed`` and never under ``event=rejected``."""
    mg, second_id = world
    failed = all_items(mg, event="failed")
    reasons = sorted((i["recipient"], i["reason"], i["severity"]) for i in failed)
    assert reasons == [
        ("alice+bounce@example.com", "bounce", "permanent"),
        ("alice+bounce@example.com", "suppress-bounce", "permanent"),
        ("frank@slow.example.com", "generic", "temporary"),
    ]
    suppressed = next(i for i in failed if i["reason"] == "suppress-bounce")
    assert suppressed["message"]["headers"]["message-id"] == second_id
    assert suppressed["delivery-status"] == {
        "attempt-no": 1,
        "message": "",
        "code": 605,
        "description": "Not delivering to previously bounced address",
        "session-seconds": 0.0,
    }
    assert [i["recipient"] for i in all_items(mg, event="rejected")] == ["gina+reject@example.com"]
