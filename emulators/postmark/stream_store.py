"""Postmark's message streams as stored (``postmark_streams``) and, for the send path (which
checks the stream of every message), in memory: :class:`Streams`, kept in
``sandbox.extensions`` and loaded at start-up (``install()``), hence apart from the routes
that serve them (``streams.py``, imported at the first Postmark request).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailsandbox.emulators.postmark.errors import STREAM_NOT_FOUND, PostmarkError
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.sql import Connection

EXTENSION = "postmark.streams"


@dataclass(frozen=True)
class Stream:
    id: str
    name: str
    description: str
    type: str
    unsubscribe_handling: str
    created: float
    updated: float = 0.0
    archived: float = 0.0


def load_streams(conn: Connection) -> dict[str, Stream]:
    rows = conn.execute("SELECT * FROM postmark_streams ORDER BY created, id").fetchall()
    return {
        r["id"]: Stream(
            r["id"],
            r["name"],
            r["description"],
            r["type"],
            r["unsubscribe_handling"],
            r["created"],
            r["updated"],
            r["archived"],
        )
        for r in rows
    }


def save_stream(conn: Connection, s: Stream) -> None:
    conn.execute(
        "INSERT INTO postmark_streams (id, name, description, type,"
        " unsubscribe_handling, created, updated, archived) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
        " description = excluded.description, type = excluded.type,"
        " unsubscribe_handling = excluded.unsubscribe_handling, created = excluded.created,"
        " updated = excluded.updated, archived = excluded.archived",
        (s.id, s.name, s.description, s.type, s.unsubscribe_handling, s.created, s.updated,
         s.archived),
    )  # fmt: skip


class Streams:
    """The streams, in memory for the send path; writes go to the table first."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.by_id: dict[str, Stream] = {}

    async def load(self) -> None:
        self.by_id = await self.sandbox.db.read(load_streams)

    def get(self, stream_id: str) -> Stream:
        found = self.by_id.get(stream_id)
        if found is None:
            raise PostmarkError(
                STREAM_NOT_FOUND, f"The message stream for the provided 'ID' ({stream_id}) was"
                " not found."
            )  # fmt: skip
        return found

    async def save(self, stream: Stream) -> Stream:
        await self.sandbox.db.write(lambda conn: save_stream(conn, stream))
        self.by_id[stream.id] = stream
        self.sandbox.team.changed(EXTENSION)  # the other replicas (team mode) reload them
        return stream
