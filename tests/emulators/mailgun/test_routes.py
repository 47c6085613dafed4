"""Mailgun Routes: the API through the official SDK (shapes, paging, match, errors), and routes at
work on mail received over SMTP: priority order, ``stop()``, named captures, ``catch_all()``,
``forward()`` to an address (the copy is stored, carries the hop header and is never routed
again), an app that is down and then up (delivered once, after retries), 406."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from mailgun.client import Client

from mailsandbox.runner import RunningSandbox
from tests.emulators.inbound_helpers import delivery_states, inbound_of, smtp_in
from tests.emulators.mailgun.conftest import KEY
from tests.sandbox.events.receiver import Receiver
from tests.sandbox.serve_process import free_port
from tests.waiting import eventually

HOST = "help.example.com"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def route(mg: Client, expression: str, *actions: str, priority: int = 0) -> str:
    data = {"priority": priority, "expression": expression, "action": list(actions)}
    created = mg.routes.create(data=data)
    assert created.status_code == 200, created.text
    return str(created.json()["route"]["id"])


def test_routes_api_through_the_sdk(mg: Client) -> None:
    first = route(mg, 'match_recipient(".*@a.example.com")', 'forward("http://app/a")', "stop()")
    second = route(mg, "catch_all()", 'store(notify="http://app/s")', priority=5)
    listed = mg.routes.get(filters={"skip": 0, "limit": 10}).json()
    assert listed["total_count"] == 2 and [i["id"] for i in listed["items"]] == [first, second]
    item = listed["items"][0]
    assert set(item) == {"actions", "created_at", "description", "expression", "id", "priority"}
    assert item["actions"] == ['forward("http://app/a")', "stop()"]
    assert item["created_at"].endswith(" GMT") and item["priority"] == 0
    paged = mg.routes.get(filters={"skip": 1, "limit": 1}).json()
    assert paged["total_count"] == 2 and [i["id"] for i in paged["items"]] == [second]

    assert mg.routes.get(route_id=second).json()["route"]["expression"] == "catch_all()"
    updated = mg.routes.put(route_id=first, data={"priority": 9, "description": "moved"}).json()
    assert updated["message"] == "Route has been updated"
    assert (updated["priority"], updated["description"]) == (9, "moved")
    assert updated["actions"] == item["actions"]  # fields not given are kept

    matched = mg.routes_match.get(filters={"address": "bob@a.example.com"}).json()
    assert matched["route"]["id"] == second  # priority 5 now comes before 9
    deleted = mg.routes.delete(route_id=second).json()
    assert deleted == {"id": second, "message": "Route has been deleted"}
    assert mg.routes_match.get(filters={"address": "bob@a.example.com"}).json()["route"]["id"] == (
        first
    )
    assert mg.routes_match.get(filters={"address": "bob@b.example.com"}).status_code == 404
    assert mg.routes.get(route_id=second).json() == {"message": "Route not found"}
    assert mg.routes.delete(route_id=second).status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "stop()"}, "'expression' parameter is missing"),
        ({"expression": "catch_all()"}, "'action' parameter is missing"),
        ({"expression": "match_everything()", "action": "stop()"}, "Invalid expression"),
        ({"expression": 'match_recipient("(")', "action": "stop()"}, "Invalid expression"),
        ({"expression": "catch_all()", "action": "forward()"}, "Invalid action"),
        ({"expression": "catch_all()", "action": 'forward("nowhere")'}, "Invalid action"),
        ({"expression": "catch_all()", "action": "stop()", "priority": "high"}, "priority"),
    ],
)
def test_invalid_routes_are_refused(mg: Client, data: dict[str, str], message: str) -> None:
    answer = mg.routes.create(data=data)
    assert answer.status_code == 400 and message in answer.json()["message"]
    assert mg.routes.get().json() == {"total_count": 0, "items": []}


def test_routes_need_the_api_key_when_keys_are_set(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(mailgun_api_key=[KEY])
    refused = httpx.get(f"{running.url}/v3/routes", auth=("api", "wrong"))
    assert (refused.status_code, refused.text) == (401, "Forbidden")
    assert httpx.get(f"{running.url}/v3/routes", auth=("api", KEY)).status_code == 200


def test_priority_stop_captures_and_catch_all(
    running: RunningSandbox, mg: Client, receiver: Receiver
) -> None:
    base = receiver.url
    users = route(
        mg,
        f'match_recipient("(?P<user>[^@]+)@{HOST}")',
        f'forward("{base}/users/\\g<user>?n=\\1")',
        priority=10,
    )
    urgent = route(
        mg, 'match_header("subject", ".*urgent")', f'forward("{base}/urgent")', "stop()", priority=1
    )
    second = route(mg, f'match_recipient(".*@{HOST}")', f'forward("{base}/second")', priority=5)
    catch = route(mg, "catch_all()", f'forward("{base}/catch")', priority=99)

    normal = smtp_in(running, [f"bob@{HOST}"], "normal")
    hurry = smtp_in(running, [f"bob@{HOST}"], "Very URGENT")
    stray = smtp_in(running, ["x@elsewhere.org"], "stray")
    pair = smtp_in(running, [f"ann@{HOST}", f"carl@{HOST}"], "pair")
    paths = sorted(r.path for r in receiver.wait_for(8))
    assert paths == sorted(
        [
            "/second",
            "/users/bob?n=bob",  # normal: priority 5, then 10; the catch-all stays out
            "/urgent",  # urgent: priority 1 and stop()
            "/catch",  # stray: nothing else matched
            "/second",
            "/users/ann?n=ann",
            "/second",
            "/users/carl?n=carl",  # pair: each recipient on its own
        ]
    )
    assert [m["Rule"] for m in inbound_of(running, normal)["Matches"]] == [second, users]
    assert [m["Rule"] for m in inbound_of(running, hurry)["Matches"]] == [urgent]
    assert [m["Rule"] for m in inbound_of(running, stray)["Matches"]] == [catch]
    pair_matches = inbound_of(running, pair)["Matches"]
    assert [(m["Recipient"], m["Rule"]) for m in pair_matches] == [
        (f"ann@{HOST}", second),
        (f"ann@{HOST}", users),
        (f"carl@{HOST}", second),
        (f"carl@{HOST}", users),
    ]
    for message in (normal, hurry, stray, pair):
        eventually(lambda message=message: delivery_states(running, message) == {"delivered"})
    form = next(r for r in receiver.requests if r.path == "/urgent")
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert b"subject=Very+URGENT" in form.body and b"signature=" in form.body


def test_forward_to_an_address_stores_one_copy_that_is_never_routed_again(
    running: RunningSandbox, mg: Client, receiver: Receiver
) -> None:
    # Forwarding to an address the same route matches would loop, were the copy routed again.
    loop = route(mg, f'match_recipient(".*@{HOST}")', f'forward("again@{HOST}")')
    route(mg, "catch_all()", f'forward("{receiver.url}/catch")', priority=9)
    original = smtp_in(running, [f"bob@{HOST}"], "Forward me")
    [match] = inbound_of(running, original)["Matches"]
    assert match["Rule"] == loop and match["Deliveries"][0]["URL"] == f"mailto:again@{HOST}"

    def delivered() -> dict[str, Any]:
        [row] = inbound_of(running, original)["Matches"][0]["Deliveries"]
        assert row["State"] == "delivered", row
        return dict(row)

    row = eventually(delivered)
    with httpx.Client(base_url=running.url) as api:
        listed = api.get("/api/v1/messages").json()["messages"]
        assert len(listed) == 2
        copy_id = next(m["ID"] for m in listed if m["ID"] != original)
        log = api.get("/api/v1/webhooks/deliveries", params={"message": original}).json()
        assert [(d["Status"], d["Response"]) for d in log["deliveries"]] == [
            (250, f"stored as message {copy_id}")
        ]
        copy = api.get(f"/api/v1/message/{copy_id}").json()
        headers = api.get(f"/api/v1/message/{copy_id}/headers").json()
        assert copy["Subject"] == "Forward me"
        assert headers["X-Mailsandbox-Inbound-Hop"] == [f"mailgun route {loop}; message {original}"]
        assert api.get(f"/api/v1/message/{copy_id}/inbound").json() == {
            "Inbound": False,
            "Matches": [],
        }
        every = api.get("/api/v1/webhooks/deliveries").json()
    assert every["outbox"] == {"delivered": 1} and row["Status"] == 250
    assert receiver.requests == []  # the catch-all never saw the copy


@pytest.fixture
def quick_retries(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    return sandbox_factory(webhook_retry_schedule="0.2s")


def test_app_down_then_up_gets_the_message_once(quick_retries: RunningSandbox) -> None:
    running = quick_retries
    port = free_port()
    with Client(auth=("api", KEY), api_url=running.url) as mg:
        route(mg, f'match_recipient(".*@{HOST}")', f'forward("http://127.0.0.1:{port}/in")')
    message = smtp_in(running, [f"bob@{HOST}"], "While you were down")

    def attempts() -> list[dict[str, Any]]:
        log = httpx.get(f"{running.url}/api/v1/webhooks/deliveries").json()["deliveries"]
        return list(log)

    failed = eventually(lambda: len(found := attempts()) >= 2 and found)
    assert all(d["Status"] == 0 and d["State"] == "pending" for d in failed)
    with Receiver(port=port) as app:
        [request] = app.wait_for(1)
        state = eventually(
            lambda: (
                inbound_of(running, message)["Matches"][0]["Deliveries"][0]["State"] == "delivered"
            )
        )
        assert state and len(app.requests) == 1
    assert request.path == "/in" and b"subject=While+you+were+down" in request.body
    assert attempts()[0]["Status"] == 200 and attempts()[0]["Attempt"] == len(attempts())


def test_406_ends_the_delivery_and_replay_sends_it_again(
    running: RunningSandbox, mg: Client, receiver: Receiver
) -> None:
    route(mg, f'match_recipient(".*@{HOST}")', f'forward("{receiver.url}/in")')
    receiver.status = 406
    message = smtp_in(running, [f"bob@{HOST}"], "Not acceptable")

    def state() -> str:
        return str(inbound_of(running, message)["Matches"][0]["Deliveries"][0]["State"])

    eventually(lambda: state() == "stopped")
    assert len(receiver.requests) == 1
    receiver.status = 200
    [row] = inbound_of(running, message)["Matches"][0]["Deliveries"]
    replay = httpx.post(f"{running.url}/api/v1/webhooks/deliveries/{row['ID']}/replay")
    assert replay.status_code == 200
    receiver.wait_for(1)
    eventually(lambda: state() == "delivered")
