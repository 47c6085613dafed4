"""Full-text indexing off the path to the 250: a durable backlog, indexed in batches.

Indexing a message in the FTS5 trigram index costs more than storing it, and much of that cost
is per transaction. So ingest stores a message with an empty index row plus a row in
``index_backlog`` (same transaction: the message is durable and listed at once), and a deferred
job (:meth:`~sandbox.storage.db.Database.schedule` with ``deferred=True``) indexes the whole
backlog a few milliseconds later, many messages per transaction. The search text waits in
memory meanwhile; after a crash the backlog table is still there and the text is rebuilt from
the stored raw message at the next start. Every API read waits for pending indexing first
(``Database.read_barrier``), and ``new`` is published once a message is searchable.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from sandbox import mime
from sandbox.storage.db import Database, Migration, WriteJob

log = logging.getLogger(__name__)


def _create_backlog(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE index_backlog (seq INTEGER PRIMARY KEY, id TEXT NOT NULL)")


MIGRATION = Migration("core.0100_index_backlog", _create_backlog)


def backlog_size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM index_backlog").fetchone()[0])


def text_from_raw(conn: sqlite3.Connection, seq: int) -> str:
    """Rebuild a message's search text from its stored raw bytes (crash recovery)."""
    row = conn.execute("SELECT raw FROM message_raw WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return ""
    try:
        return mime.parse_message(bytes(row[0])).search_text
    except Exception as exc:  # unparseable mail is stored, just not searchable by body
        log.warning("could not index message %s: %s", seq, exc)
        return ""


class SearchIndexer:
    """The backlog and its indexing job (at most one queued, shared by all it covers)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._job: WriteJob | None = None
        # seq -> (message id, search text). Only the writer thread touches it: message
        # writes add to it and the indexing job empties it, one after the other.
        self._texts: dict[int, tuple[str, str]] = {}

    def remember(self, conn: sqlite3.Connection, seq: int, message_id: str, text: str) -> None:
        """Inside the message's transaction: put it in the backlog."""
        conn.execute(
            "INSERT OR REPLACE INTO index_backlog (seq, id) VALUES (?, ?)", (seq, message_id)
        )
        self._texts[seq] = (message_id, text)

    def index_backlog(self, conn: sqlite3.Connection) -> int:
        """Index every backlog entry whose message still exists (same seq and id); clear it."""
        rows = conn.execute(
            "SELECT b.seq, b.id FROM index_backlog b"
            " JOIN messages m ON m.seq = b.seq AND m.id = b.id"
        ).fetchall()
        entries = []
        for seq, message_id in rows:
            known = self._texts.get(seq)
            text = known[1] if known and known[0] == message_id else text_from_raw(conn, seq)
            entries.append((seq, text))
        if entries:
            conn.executemany("DELETE FROM messages_fts WHERE rowid = ?", [(e[0],) for e in entries])
            conn.executemany("INSERT INTO messages_fts (rowid, search_text) VALUES (?, ?)", entries)
        conn.execute("DELETE FROM index_backlog")
        self._texts.clear()
        return len(entries)

    def schedule(self) -> asyncio.Future[int]:
        """Call after a message's commit; the future resolves once that message is indexed.

        A queued job that has not started yet runs after this commit, so it covers the
        message; one that has started may have begun before it, so a new one is queued.
        """
        if self._job is None or self._job.started:
            self._job = self.db.schedule(self.index_backlog, deferred=True)
        assert self._job.waiter is not None
        return self._job.waiter

    async def wait(self) -> None:
        """Return once everything committed so far is searchable (indexing it now if need be)."""
        job = self._job
        if job is not None and job.waiter is not None and not job.waiter.done():
            self.db.expedite()
            await asyncio.wait([job.waiter])
