"""The step schedule: the clock that batches drains, and taking due steps from a real database."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time

import httpx

from mailsandbox.events import schedule
from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from tests.sandbox.events.conftest import smtp_send, types_of, wait_events
from tests.waiting import eventually


def test_clock_wakes_early_only_for_a_step_due_before_the_planned_drain() -> None:
    async def scenario() -> None:
        clock = schedule.DueClock()
        await asyncio.wait_for(clock.wait(), 0.5)  # the first drain starts at once
        clock.drained(None)  # nothing pending: the next look is MAX_IDLE away
        waiter = asyncio.ensure_future(clock.wait())
        clock.note(time.time() + 30)  # later than planned: no reason to wake
        clock.poke()
        # The behaviour under test is "no early wake-up": woken, the waiter would be done
        # within a tick; this pause is the window it must stay asleep through.
        await asyncio.sleep(0.2)
        assert not waiter.done()
        clock.note(time.time())  # due now: wake
        clock.poke()
        await asyncio.wait_for(waiter, 0.5)

    asyncio.run(scenario())


def test_drains_are_at_least_a_tick_apart() -> None:
    async def scenario() -> float:
        clock = schedule.DueClock()
        await clock.wait()
        started = time.monotonic()
        clock.drained(time.time())  # more is due right away
        await asyncio.wait_for(clock.wait(), 0.5)
        return time.monotonic() - started

    assert asyncio.run(scenario()) >= schedule.TICK * 0.9


def test_take_due_removes_due_steps_and_reads_their_messages(running: RunningSandbox) -> None:
    message_id = smtp_send(running, ["carol@example.com"])
    now = time.time()
    rows = [
        (message_id, "carol@example.com", "opened", now - 1, "", 0, "{}"),
        ("gone-message", "dave@example.com", "opened", now - 1, "", 0, "{}"),
        (message_id, "carol@example.com", "clicked", now + 3600, "", 0, "{}"),
    ]

    def write(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
        conn.execute("DELETE FROM event_schedule")  # this test's steps only
        schedule.insert_steps(conn, rows)
        taken, found = schedule.take_due(conn, now)
        return [r["type"] + ":" + r["message_id"] for r in taken], list(found)

    taken, found = running.sandbox.db.write_sync(write)
    assert sorted(taken) == sorted([f"opened:{message_id}", "opened:gone-message"])
    assert found == [message_id]  # a deleted message has no summary: its lifecycle ends
    left = running.sandbox.db.write_sync(schedule.next_due)
    assert left is not None and abs(left - (now + 3600)) < 1e-3


def test_take_due_uses_known_summaries_only_for_messages_still_stored(
    running: RunningSandbox,
) -> None:
    message_id = smtp_send(running, ["erin@example.com"])
    stored = running.sandbox.db.read_sync(lambda conn: messages.get_summary(conn, message_id))
    assert stored is not None
    known = {message_id: stored, "gone-message": dataclasses.replace(stored, id="gone-message")}
    now = time.time()
    rows = [
        (message_id, "erin@example.com", "opened", now - 1, "", 0, "{}"),
        ("gone-message", "erin@example.com", "opened", now - 1, "", 0, "{}"),
    ]

    def write(conn: sqlite3.Connection) -> dict[str, messages.MessageSummary]:
        conn.execute("DELETE FROM event_schedule")  # this test's steps only
        schedule.insert_steps(conn, rows)
        return schedule.take_due(conn, now, known=known)[1]

    found = running.sandbox.db.write_sync(write)
    assert list(found) == [message_id] and found[message_id] is stored  # not read back


def test_a_message_deleted_before_its_step_gets_no_more_events(
    running: RunningSandbox, api: httpx.Client
) -> None:
    rule = {"recipient": "late@example.com", "outcome": "delivered", "delay": 1}
    assert api.post("/api/v1/rules", json=rule).status_code == 200
    message_id = smtp_send(running, ["late@example.com"])
    assert api.request("DELETE", "/api/v1/messages", json={"IDs": [message_id]}).status_code == 200

    def delivered(conn: sqlite3.Connection) -> int:
        sql = "SELECT COUNT(*) FROM events WHERE message_id = ? AND type = 'delivered'"
        return int(conn.execute(sql, (message_id,)).fetchone()[0])

    def pending(conn: sqlite3.Connection) -> int:
        sql = "SELECT COUNT(*) FROM event_schedule WHERE message_id = ?"
        return int(conn.execute(sql, (message_id,)).fetchone()[0])

    # A step leaves the schedule only when it is due and drained (in the transaction that
    # would record its event): once it is gone, its moment has come and gone.
    assert running.sandbox.db.read_sync(pending) == 1
    eventually(lambda: running.sandbox.db.read_sync(pending) == 0, what="the step was drained")
    assert running.sandbox.db.read_sync(delivered) == 0


def test_burst_of_messages_all_delivered(running: RunningSandbox, api: httpx.Client) -> None:
    sent = [smtp_send(running, [f"user{i}@example.com"]) for i in range(20)]
    for message_id in sent:
        found = wait_events(api, message_id, lambda e: "delivered" in types_of(e), timeout=5)
        assert types_of(found) == ["queued", "delivered"]
