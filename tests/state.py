"""A snapshot of everything a sandbox stores, to assert that a request changed nothing.

Every table of the database is read in full (messages and their read flags, tags, delivery
events, suppressions, webhook endpoints and outbox, rules, templates), so a refused request
that still managed to write anything shows up as a difference.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import send
from tests.waiting import eventually

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(running: RunningSandbox) -> Snapshot:
    def read(conn: sqlite3.Connection) -> Snapshot:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: sorted(
                (tuple(row) for row in conn.execute(f'SELECT * FROM "{table}"')), key=repr
            )
            for table in sorted(tables)
        }

    result: Snapshot = running.sandbox.db.read_sync(read)
    return result


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    """The names of the tables whose rows differ."""
    return [
        name for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)
    ]


def settled_message(running: RunningSandbox, subject: str = "Your code is 424242") -> str:
    """A new message whose simulated delivery is over: after it, nothing in the sandbox changes
    on its own, so a snapshot taken now stays valid until a request changes something."""
    with httpx.Client(base_url=running.url, timeout=30) as api:
        message_id = send(api, subject)
        path = f"/api/v1/message/{message_id}/events"
        eventually(lambda: "delivered" in [e["Type"] for e in api.get(path).json()["events"]])
    return message_id
