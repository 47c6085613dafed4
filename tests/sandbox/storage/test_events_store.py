"""Delivery events in storage: several stored with one statement as one at a time would be."""

from __future__ import annotations

import pytest

from mailsandbox.storage import events as store
from mailsandbox.storage.db import Database
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.sql import Connection


def _batch(tag: str, count: int) -> list[DeliveryEvent]:
    return [
        DeliveryEvent(
            f"m-{tag}-{n % 3}",
            ("queued", "delivered", "bounced")[n % 3],
            f"r{n}@example.com",
            provider="smtp",
            reason=f"reason {n}",
            code=n,
            details={"n": n, "nested": {"list": [n, "x"]}},
        )
        for n in range(count)
    ]


def _stored(conn: Connection, tag: str) -> list[tuple[object, ...]]:
    """The rows of ``tag``'s events in the order they were stored, without their ids/seqs."""
    rows = conn.execute(
        "SELECT message_id, type, recipient, provider, reason, code, details_json FROM events"
        " WHERE message_id LIKE ? ORDER BY seq",
        (f"m-{tag}-%",),
    )
    return [(row[0].split("-")[-1], *tuple(row)[1:]) for row in rows]


def test_several_events_in_one_statement_are_stored_as_one_by_one(
    core_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``add_all`` (what the engine and ingest use) against ``add`` per event: the same rows
    in the same order, and each event learns its own seq; more than ``CHUNK`` events take
    several statements."""
    monkeypatch.setattr(store, "CHUNK", 4)
    plain, batched = _batch("plain", 10), _batch("batch", 10)

    def write(conn: Connection) -> None:
        for event in plain:
            store.add(conn, event)
        store.add_all(conn, batched)

    core_database.write_sync(write)
    stored = core_database.read_sync(lambda conn: (_stored(conn, "plain"), _stored(conn, "batch")))
    assert stored[0] == stored[1] and len(stored[0]) == 10
    for events in (plain, batched):
        seqs = [event.seq for event in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == 10  # in order, each its own
        wanted = [e.id for e in events]
        found = core_database.read_sync(lambda conn, wanted=wanted: store.by_ids(conn, wanted))
        assert [(e.seq, e.id, e.created) for e in found] == [
            (e.seq, e.id, e.created) for e in events
        ]


def test_an_unknown_type_stores_none_of_the_batch(core_database: Database) -> None:
    events = [*_batch("bad", 2), DeliveryEvent("m-bad-9", "exploded")]
    with pytest.raises(ValueError, match="unknown event type 'exploded'"):
        core_database.write_sync(lambda conn: store.add_all(conn, events))
    assert core_database.read_sync(lambda conn: _stored(conn, "bad")) == []
