"""Full-text indexing off the path to the 250: a durable backlog, indexed in batches.

Indexing a message in the FTS5 trigram index costs several times more than storing it, and
most of that cost is per transaction. So ingest stores a message with an empty index row and
its search text in ``search_backlog`` (same transaction: the message is durable and listed at
once), and a deferred job (:meth:`~sandbox.storage.db.Database.defer`) moves the whole backlog
into the index a few milliseconds later, many messages per transaction. The backlog is a table,
so a crash in between loses nothing: it is indexed at the next start. ``new`` is published on
the bus once a message is searchable, so waiters and live views never see a half-indexed one.
"""

from __future__ import annotations

import asyncio
import sqlite3

from sandbox.storage.db import Database, Migration, WriteJob


def _create_backlog(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE search_backlog (seq INTEGER PRIMARY KEY, id TEXT NOT NULL,"
        " search_text TEXT NOT NULL)"
    )


MIGRATION = Migration("core.0100_search_backlog", _create_backlog)


def queue_text(conn: sqlite3.Connection, seq: int, message_id: str, text: str) -> None:
    """Inside the message's transaction: remember what to index."""
    conn.execute(
        "INSERT OR REPLACE INTO search_backlog (seq, id, search_text) VALUES (?, ?, ?)",
        (seq, message_id, text),
    )


def index_backlog(conn: sqlite3.Connection) -> int:
    """Index every backlog entry whose message still exists (same seq and id); clear the backlog."""
    rows = conn.execute(
        "SELECT b.seq, b.search_text FROM search_backlog b"
        " JOIN messages m ON m.seq = b.seq AND m.id = b.id"
    ).fetchall()
    if rows:
        conn.executemany("DELETE FROM messages_fts WHERE rowid = ?", [(r[0],) for r in rows])
        conn.executemany(
            "INSERT INTO messages_fts (rowid, search_text) VALUES (?, ?)",
            [(r[0], r[1]) for r in rows],
        )
    conn.execute("DELETE FROM search_backlog")
    return len(rows)


def backlog_size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM search_backlog").fetchone()[0])


class SearchIndexer:
    """Schedules backlog indexing: at most one queued job, shared by every message it covers."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._job: WriteJob | None = None

    def schedule(self) -> asyncio.Future[int]:
        """Call after a message's commit; the future resolves once that message is indexed.

        A queued job that has not started yet runs after this commit, so it covers the
        message; one that has started may have begun before it, so a new one is queued.
        """
        if self._job is None or self._job.started:
            self._job = self.db.schedule(index_backlog, deferred=True)
        assert self._job.waiter is not None
        return self._job.waiter

    async def wait(self) -> None:
        """Return once everything committed so far is searchable (indexing it now if need be)."""
        job = self._job
        if job is not None and job.waiter is not None and not job.waiter.done():
            self.db.expedite()
            await asyncio.wait([job.waiter])
