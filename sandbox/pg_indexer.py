"""Making stored messages searchable on PostgreSQL: :class:`PgIndexer`.

A message's search text is written in the message's own transaction, into
``messages_fts_pending``, a table without an index: searchable once committed, on every
replica (searches read the ``search_texts`` view of it and ``messages_fts``; the few pending
rows are scanned). It waits there because of pg_trgm: extracting the trigrams of a text for
``messages_fts``'s GIN index costs the server ~310 µs for a 5 KB message, most of what a
message's insert cost, and every acknowledgement waited for it (bench/README.md, "Team mode,
fourth pass").

A thread of each replica moves the pending rows into ``messages_fts``, on a connection of its
own, off the acknowledgement path (the server does it on its other core): after the replica's
commits, gathered for ``GATHER`` seconds, and every ``SWEEP`` seconds (rows a stopped replica
left). A move is one statement in one transaction (the rows deleted from one table are
inserted into the other), so a search finds each text in exactly one of the two; replicas move
different rows (``FOR UPDATE SKIP LOCKED``). Deleting a message deletes its pending row first
(:func:`mailsandbox.storage.messages.delete_by_seqs`), so a move under way is waited for and
what it moved is deleted next. If moving fails (the server restarted), the thread tries again
after pauses growing to ``RETRY_MAX``: the texts stay searchable meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from mailsandbox.storage.db import Database, transaction
from mailsandbox.storage.sql import Connection

log = logging.getLogger(__name__)

BATCH = 500  # rows per move
GATHER = 0.05  # after a commit, wait this long for more (a move costs a transaction)
SWEEP = 5.0  # look for rows left by other replicas this often
RETRY_FIRST, RETRY_MAX = 0.1, 2.0  # pauses between attempts while moving fails (doubling)
MOVE = """WITH moved AS (
    DELETE FROM messages_fts_pending WHERE rowid IN (
        SELECT rowid FROM messages_fts_pending ORDER BY rowid LIMIT ? FOR UPDATE SKIP LOCKED)
    RETURNING rowid, search_text)
INSERT INTO messages_fts (rowid, search_text) SELECT rowid, search_text FROM moved"""


def move_pending(conn: Connection) -> int:
    """Move up to ``BATCH`` pending search texts into the indexed table; how many it moved."""
    return int(transaction(conn, lambda: conn.execute(MOVE, (BATCH,)).rowcount))


class PgIndexer:
    """Moves the search texts of committed messages into the trigram index, on a thread."""

    # The message's transaction writes its search text (pending): searchable once committed.
    deferred = False

    def __init__(self, db: Database) -> None:
        self.db = db
        self._wake = threading.Event()  # a commit: there may be texts to move
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.moved = 0  # texts this replica moved
        db.on_commit.append(self._wake.set)

    def stage(self, seq: int, message_id: str, text: str) -> None:
        return None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._stopping.clear()
        self._wake.set()  # whatever an earlier run left
        self._thread = threading.Thread(target=self._run, name="search-mover", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (what is pending stays searchable; the next move takes it)."""
        if self._thread is not None:
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout=60)
            self._thread = None

    def indexed_future(self) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def wait(self) -> None:
        return None

    def incomplete(self) -> str:
        return ""

    def _run(self) -> None:
        conn: Connection | None = None
        delay = RETRY_FIRST
        try:
            while not self._stopping.is_set():
                if self._wake.wait(SWEEP) and self._stopping.wait(GATHER):
                    break
                self._wake.clear()
                try:
                    if conn is None:
                        conn = self.db.connect()
                    while (moved := move_pending(conn)) and not self._stopping.is_set():
                        self.moved += moved
                        if moved < BATCH:
                            break
                    delay = RETRY_FIRST
                except Exception as exc:  # (the texts stay searchable; tried again)
                    log.warning("moving search texts into the index failed: %s", exc)
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            conn.close()
                    conn = None
                    if self._stopping.wait(delay):
                        break
                    delay = min(delay * 2, RETRY_MAX)
                    self._wake.set()
        finally:
            if conn is not None:
                conn.close()
