"""The record of every release and auto-relay: when, from and to whom, and the upstream's reply.

The ``releases`` table (``ReleaseRow`` in ``storage/models.py``): one row per attempt, written
whatever the outcome (an error is kept, never lost), read by the message page and the message's
``/releases`` route. Rows stay when their message is deleted.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from mailsandbox.storage.db import Migration
from mailsandbox.storage.migrations import run_statements


@dataclass
class Release:
    message_id: str
    created: float
    trigger: str
    server: str
    sender: str
    recipients: list[str]
    ok: bool
    reply: str

    def as_json(self) -> dict[str, object]:
        return {
            "Created": self.created,
            "Trigger": self.trigger,
            "Server": self.server,
            "Sender": self.sender,
            "Recipients": self.recipients,
            "OK": self.ok,
            "Reply": self.reply,
        }


def _releases_0001(conn: sqlite3.Connection) -> None:
    run_statements(
        conn,
        """CREATE TABLE releases (
            seq INTEGER NOT NULL, message_id VARCHAR NOT NULL, created FLOAT NOT NULL,
            kind VARCHAR NOT NULL, server VARCHAR NOT NULL, sender VARCHAR NOT NULL,
            recipients_json VARCHAR NOT NULL, ok BOOLEAN NOT NULL, reply VARCHAR NOT NULL,
            PRIMARY KEY (seq))""",
        "CREATE INDEX ix_releases_message_id ON releases (message_id)",
    )


MIGRATIONS: list[Migration] = [Migration("relay.0001_releases", _releases_0001)]


def add(conn: sqlite3.Connection, release: Release) -> None:
    conn.execute(
        "INSERT INTO releases (message_id, created, kind, server, sender, recipients_json, ok,"
        " reply) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            release.message_id,
            release.created,
            release.trigger,
            release.server,
            release.sender,
            json.dumps(release.recipients, ensure_ascii=False),
            int(release.ok),
            release.reply,
        ),
    )


def for_message(conn: sqlite3.Connection, message_id: str) -> list[Release]:
    """The message's releases, newest first."""
    rows = conn.execute(
        "SELECT message_id, created, kind, server, sender, recipients_json, ok, reply"
        " FROM releases WHERE message_id = ? ORDER BY seq DESC",
        (message_id,),
    )
    return [
        Release(m, created, trigger, server, sender, json.loads(rcpts), bool(ok), reply)
        for m, created, trigger, server, sender, rcpts, ok, reply in rows
    ]
