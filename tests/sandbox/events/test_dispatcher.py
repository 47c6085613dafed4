"""The webhook outbox and dispatcher with the generic new-message webhook and a real local
receiver: payload and Basic auth, retries while the endpoint is down, every attempt logged,
replay, and a restart in the middle (nothing lost, nothing acknowledged sent twice)."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mailsandbox.events import outbox
from mailsandbox.events.migrations import MIGRATIONS
from mailsandbox.events.providers import Target
from mailsandbox.runner import RunningSandbox
from tests.sandbox.events.conftest import smtp_send
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually


def hook_url(receiver: Receiver, userinfo: str = "") -> str:
    return receiver.url.replace("http://", f"http://{userinfo}") + "/hook"


def deliveries(api: httpx.Client, outbox_state: dict[str, int]) -> dict[str, Any]:
    """The delivery log, once the outbox counts are ``outbox_state``."""
    log: dict[str, Any] = api.get("/api/v1/webhooks/deliveries").json()
    assert log["outbox"] == outbox_state
    return log


def test_new_message_webhook_with_basic_auth(
    sandbox_factory: Callable[..., RunningSandbox], receiver: Receiver
) -> None:
    running = sandbox_factory(webhook_url=[hook_url(receiver, "app:s%40cret@")])
    message_id = smtp_send(running, ["bob@example.com"], subject="Webhook me")
    (request,) = receiver.wait_for(1)
    assert request.path == "/hook"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"app:s@cret").decode()
    payload = request.json()
    assert payload["ID"] == message_id and payload["Subject"] == "Webhook me"
    assert payload["To"] == [{"Name": "", "Address": "bob@example.com"}]


def test_retries_until_the_endpoint_is_back_and_logs_attempts(
    sandbox_factory: Callable[..., RunningSandbox], receiver: Receiver
) -> None:
    receiver.status = 503
    running = sandbox_factory(webhook_url=[hook_url(receiver)], webhook_retry_schedule="0.2s")
    sent = {smtp_send(running, [f"r{i}@example.com"]) for i in range(3)}
    receiver.wait_for(6, accepted=False)  # each message failed at least twice
    receiver.status = 200
    arrived = receiver.wait_for(3)
    assert {r.json()["ID"] for r in arrived} == sent
    with httpx.Client(base_url=running.url) as api:
        # Once every row is delivered nothing is pending: no POST can follow.
        log = eventually(lambda: deliveries(api, {"delivered": 3}))
        assert len(receiver.accepted) == 3  # acknowledged once, never again
        attempts = log["deliveries"]
        assert {a["Status"] for a in attempts} == {503, 200}
        assert all(a["State"] == "delivered" and a["Provider"] == "generic" for a in attempts)
        first_ok = next(a for a in attempts if a["OK"])
        assert (
            first_ok["Attempt"] >= 3 and first_ok["LatencyMs"] >= 0 and first_ok["Response"] == "ok"
        )
        replay = api.post(f"/api/v1/webhooks/deliveries/{first_ok['ID']}/replay")
        assert replay.status_code == 200
        assert api.post("/api/v1/webhooks/deliveries/nope/replay").status_code == 404
    receiver.wait_for(4)
    assert receiver.accepted[-1].json()["ID"] == first_ok["MessageID"]


def test_restart_loses_nothing_and_resends_nothing_acknowledged(
    sandbox_factory: Callable[..., RunningSandbox], receiver: Receiver
) -> None:
    settings = {"webhook_url": [hook_url(receiver)], "webhook_retry_schedule": "0.3s"}
    first = sandbox_factory(**settings)
    acknowledged = smtp_send(first, ["a@example.com"])
    receiver.wait_for(1)
    receiver.status = 500
    pending = {smtp_send(first, [f"p{i}@example.com"]) for i in range(3)}
    receiver.wait_for(4, accepted=False)
    first.stop()
    receiver.status = 200
    second = sandbox_factory(**settings)
    arrived = receiver.wait_for(4)
    with httpx.Client(base_url=second.url) as api:  # all delivered: nothing more to POST
        eventually(lambda: deliveries(api, {"delivered": 4}))
    ids = [r.json()["ID"] for r in receiver.accepted]
    assert sorted(ids) == sorted([acknowledged, *pending])  # each exactly once
    assert len(arrived) == 4


def test_trim_keeps_pending_and_the_newest_rows(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "outbox.db")
    conn.row_factory = sqlite3.Row
    for migration in MIGRATIONS:
        migration.apply(conn)
    for n in range(6):
        outbox_id = outbox.add(conn, "generic", Target("http://x.test/"), {"n": n})
        item = outbox.get(conn, outbox_id)
        assert item is not None
        result = outbox.AttemptResult(503 if n == 0 else 200, 1.0)
        status = "pending" if n == 0 else "delivered"
        outbox.record(conn, [item], result, status=status, next_attempt=0)
    assert outbox.trim(conn, keep=2) == 3  # rows 2-4 go; 1 is pending, 5-6 are the newest
    left = conn.execute("SELECT payload_json FROM webhook_outbox ORDER BY seq").fetchall()
    assert [json.loads(r[0])["n"] for r in left] == [0, 4, 5]
    assert conn.execute("SELECT COUNT(*) FROM webhook_attempts").fetchone()[0] == 3
