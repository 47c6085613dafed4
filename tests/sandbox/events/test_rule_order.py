"""Rules switched on/off and reordered: ``PATCH /api/v1/rules/{id}``, what the engine then
decides, what survives a restart, the rules file's block, and the ``events.0002`` migration."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage.db import Database
from tests.sandbox.events.conftest import smtp_send, types_of, wait_events


def outcome(api: httpx.Client, running: RunningSandbox, recipient: str) -> str:
    """The outcome the engine picks for a new message to ``recipient`` (a fresh address each
    time: a bounce puts the address on the suppression list, and the next send is dropped)."""
    message_id = smtp_send(running, [recipient])
    found = wait_events(api, message_id, lambda e: len(types_of(e)) >= 2)
    return types_of(found)[1]


def rule_ids(api: httpx.Client) -> list[str]:
    return [r["id"] for r in api.get("/api/v1/rules").json()["rules"]]


def test_disabled_rule_is_kept_but_never_matches(
    running: RunningSandbox, api: httpx.Client
) -> None:
    rule = api.post("/api/v1/rules", json={"recipient": "x*@*", "outcome": "bounced"}).json()
    assert outcome(api, running, "x1@example.com") == "bounced"
    off = api.patch(f"/api/v1/rules/{rule['id']}", json={"enabled": False})
    assert off.status_code == 200 and off.json() == {**rule, "enabled": False}
    assert api.get("/api/v1/rules").json()["rules"] == [off.json()]
    assert outcome(api, running, "x2@example.com") == "delivered"
    assert api.patch(f"/api/v1/rules/{rule['id']}", json={"enabled": True}).json()["enabled"]
    assert outcome(api, running, "x3@example.com") == "bounced"


def test_order_decides_which_rule_wins(running: RunningSandbox, api: httpx.Client) -> None:
    first = api.post("/api/v1/rules", json={"recipient": "y*@*", "outcome": "bounced"}).json()
    second = api.post("/api/v1/rules", json={"recipient": "y*@*", "outcome": "rejected"}).json()
    third = api.post("/api/v1/rules", json={"recipient": "z@*", "outcome": "opened"}).json()
    assert outcome(api, running, "y1@example.com") == "bounced"
    moved = api.patch(f"/api/v1/rules/{second['id']}", json={"position": 0})
    assert moved.status_code == 200 and moved.json()["id"] == second["id"]
    assert rule_ids(api) == [second["id"], first["id"], third["id"]]
    assert outcome(api, running, "y2@example.com") == "rejected"
    # Past the end means last; both changes in one request.
    both = api.patch(f"/api/v1/rules/{second['id']}", json={"position": 99, "enabled": False})
    assert both.json()["enabled"] is False
    assert rule_ids(api) == [first["id"], third["id"], second["id"]]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "nothing to change"),
        ({"enabled": "no"}, "enabled must be true or false"),
        ({"position": -1}, "position must be a whole number"),
        ({"position": 1.5}, "position must be a whole number"),
        ({"position": True}, "position must be a whole number"),
    ],
)
def test_bad_patches_are_400(shared_api: httpx.Client, body: dict[str, Any], error: str) -> None:
    rule = shared_api.post("/api/v1/rules", json={"outcome": "bounced"}).json()
    response = shared_api.patch(f"/api/v1/rules/{rule['id']}", json=body)
    assert response.status_code == 400 and error in response.json()["Error"]
    assert shared_api.get("/api/v1/rules").json()["rules"] == [rule]  # unchanged


def test_unknown_rule_is_404(shared_api: httpx.Client) -> None:
    response = shared_api.patch("/api/v1/rules/nope", json={"enabled": False})
    assert response.status_code == 404 and response.json() == {"Error": "Rule not found"}


def test_order_and_switches_survive_a_restart(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    first = sandbox_factory()
    with httpx.Client(base_url=first.url) as api:
        a, b, c = (
            api.post("/api/v1/rules", json={"recipient": f"{n}@*", "outcome": "bounced"}).json()
            for n in "abc"
        )
        api.patch(f"/api/v1/rules/{c['id']}", json={"position": 0, "enabled": False})
        before = api.get("/api/v1/rules").json()["rules"]
    assert [r["id"] for r in before] == [c["id"], a["id"], b["id"]]
    first.stop()
    second = sandbox_factory()
    with httpx.Client(base_url=second.url) as api:
        assert api.get("/api/v1/rules").json()["rules"] == before
        added = api.post("/api/v1/rules", json={"outcome": "opened"}).json()  # goes last
        assert rule_ids(api) == [c["id"], a["id"], b["id"], added["id"]]


def test_rules_file_block_comes_first(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps([{"recipient": "f1@*", "outcome": "opened"}, {"outcome": "clicked"}])
    )
    running = sandbox_factory(rules_file=str(path))
    with httpx.Client(base_url=running.url) as api:
        file_one, file_two = rule_ids(api)
        live = api.post("/api/v1/rules", json={"outcome": "bounced"}).json()
        api.patch(f"/api/v1/rules/{live['id']}", json={"position": 0})  # clamped to its block
        assert rule_ids(api) == [file_one, file_two, live["id"]]
        api.patch(f"/api/v1/rules/{file_two}", json={"position": 0, "enabled": False})
        assert rule_ids(api) == [file_two, file_one, live["id"]]


def test_migration_orders_rules_stored_before_positions_existed(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    first = sandbox_factory()
    with httpx.Client(base_url=first.url) as api:
        for n in "abc":
            api.post("/api/v1/rules", json={"recipient": f"{n}@*", "outcome": "bounced"})
        stored = rule_ids(api)
    first.stop()
    database = Database(first.settings.db, [])  # the table as 0001 made it
    database.open()
    database.write_sync(lambda conn: conn.execute("ALTER TABLE event_rules DROP COLUMN position"))
    database.write_sync(
        lambda conn: conn.execute(
            "DELETE FROM schema_migrations WHERE id = 'events.0002_rule_position'"
        )
    )
    database.close()
    second = sandbox_factory()
    with httpx.Client(base_url=second.url) as api:
        assert rule_ids(api) == stored
        api.patch(f"/api/v1/rules/{stored[2]}", json={"position": 0})
    second.stop()
    third = sandbox_factory()
    with httpx.Client(base_url=third.url) as api:
        assert rule_ids(api) == [stored[2], stored[0], stored[1]]
