"""Full-text indexing beside the message writer: its own SQLite file and its own thread.

FTS5 trigram indexing costs more than storing a message, nearly all of it in SQLite's C code,
which runs without the GIL. So the index lives in a file of its own next to the database
(``<db>-search``, attached as ``search`` to every connection, where ``messages_fts`` resolves
by name), and one thread writes it. Ingest stages a message's search text inside the
message's transaction; right after the COMMIT the writer hands it to the indexing thread, which
indexes whatever has queued up in one transaction at a time, on the other core, while the
message writer carries on. Every API read waits until what was committed before it is
searchable (``Database.read_barrier``), and ``new`` is published once a message is.

Every FTS row belongs to a stored message, which the search code relies on when it counts
matches in the index alone. Rows are written only for messages that still exist, checked
after taking the index's write lock; deleting a message deletes its row in the same
transaction, which needs that lock too, so a deletion and an indexing never cross. (SQLite
commits the two files of such a transaction one after the other, so a search at that very
instant may still count a message being deleted.) At start, rows left by a crash for deleted
messages are dropped and messages committed but not indexed are indexed again from their
stored raw bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from pathlib import Path

from mailsandbox import mime
from mailsandbox.storage.db import Attachment, Database, Migration

log = logging.getLogger(__name__)

Item = tuple[int, str, str]  # seq, message id, search text ("" with id "": read it from raw)
MAX_BATCH = 1000  # messages per indexing transaction
# A batch waits this long for company (FTS5 costs much less per message in bigger
# transactions) unless a reader is waiting for it.
GATHER = 0.02
WAIT_FOR_ALL = 2000  # at start, fewer unindexed messages than this are indexed before reads


def _create_index(conn: sqlite3.Connection) -> None:
    # Free-text search: trigram tokens give substring matching (Mailpit's "contains") with an
    # index, for any term of 3 characters or more.
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS search.messages_fts"
        " USING fts5(search_text, tokenize='trigram')"
    )


def attachment(db_path: Path) -> Attachment:
    """The search index file of the database at ``db_path``: derived data (a damaged one is
    moved aside at start and rebuilt from the stored messages, see ``SearchIndexer.start``)."""
    path = db_path.with_name(db_path.name + "-search")
    return Attachment("search", path, _create_index, derived=True)


def _create_backlog(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE index_backlog (seq INTEGER PRIMARY KEY, id TEXT NOT NULL)")


def _move_to_own_file(conn: sqlite3.Connection) -> None:
    # The index used to live in the main file, filled from a backlog table by the message
    # writer. Its rows are rebuilt in the search file from the raw messages at start.
    conn.execute("DROP TABLE IF EXISTS main.messages_fts")
    conn.execute("DROP TABLE IF EXISTS main.index_backlog")


MIGRATIONS = [
    Migration("core.0100_index_backlog", _create_backlog),
    Migration("core.0200_search_index_file", _move_to_own_file),
]


def text_from_raw(conn: sqlite3.Connection, seq: int) -> str:
    """Rebuild a message's search text from its stored raw bytes."""
    row = conn.execute("SELECT raw FROM message_raw WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return ""
    try:
        return mime.parse_message(bytes(row[0])).search_text
    except Exception as exc:  # unparseable mail is stored, just not searchable by body
        log.warning("could not index message %s: %s", seq, exc)
        return ""


def unindexed(conn: sqlite3.Connection) -> list[int]:
    """Seqs of stored messages without an index row."""
    rows = conn.execute(
        "SELECT seq FROM messages WHERE seq NOT IN (SELECT rowid FROM messages_fts) ORDER BY seq"
    )
    return [row[0] for row in rows]


def index_items(conn: sqlite3.Connection, items: list[Item]) -> None:
    """Index ``items`` in one transaction, skipping messages deleted meanwhile."""
    conn.execute("BEGIN")
    try:
        # Writing first takes the index's write lock; the read of ``messages`` below then
        # sees every deletion that committed before (a deletion needs that lock too).
        conn.executemany("DELETE FROM messages_fts WHERE rowid = ?", [(i[0],) for i in items])
        by_seq = {item[0]: item for item in items}
        marks = ",".join("?" * len(by_seq))
        stored = conn.execute(
            f"SELECT seq, id FROM messages WHERE seq IN ({marks})", list(by_seq)
        ).fetchall()
        rows = []
        for seq, message_id in stored:
            _, known_id, text = by_seq[seq]
            if known_id != message_id:  # recovery item, or a seq reused since: read it
                text = text_from_raw(conn, seq)
            rows.append((seq, text))
        conn.executemany("INSERT INTO messages_fts (rowid, search_text) VALUES (?, ?)", rows)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class SearchIndexer:
    """Stages texts in the writer's transactions and indexes them on a thread of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._staged: list[Item] = []  # the current write transaction's messages
        self._queue: queue.SimpleQueue[list[Item] | None] = queue.SimpleQueue()
        self.submitted = 0  # messages handed to the indexing thread (at their commits)
        self.indexed = 0  # of those, done (indexing thread counts)
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []  # event loop only
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._hurry = threading.Event()  # a reader waits: index what is queued now
        db.on_commit.append(self._hand_over)
        db.on_rollback.append(self._discard)

    # --- inside write transactions (serialised by the database's write lock) -------------
    def stage(self, seq: int, message_id: str, text: str) -> None:
        """Inside the message's transaction: index it once that commits."""
        self._staged.append((seq, message_id, text))

    def _hand_over(self) -> None:
        if self._staged:
            batch, self._staged = self._staged, []
            self.submitted += len(batch)
            self._queue.put(batch)

    def _discard(self) -> None:
        self._staged = []

    # --- lifecycle -----------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """After the database opened (blocking; run it off the loop): drop the rows a crash
        left for deleted messages, find messages not indexed, start the thread."""
        self._loop = loop
        conn = self.db.connect()
        conn.execute("BEGIN")
        conn.execute("DELETE FROM messages_fts WHERE rowid NOT IN (SELECT seq FROM messages)")
        conn.execute("COMMIT")
        missing: list[Item] = [(seq, "", "") for seq in unindexed(conn)]
        if len(missing) < WAIT_FOR_ALL:  # a crash's leftovers: searchable before any read
            if missing:
                self.submitted += len(missing)
                self._queue.put(missing)
            missing = []
        else:  # a whole database (after an upgrade): filled in while serving, new mail first
            log.info("building the search index of %d messages", len(missing))
        self._thread = threading.Thread(
            target=self._run, args=(conn, missing), name="search-indexer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Index what is queued, then stop the thread (blocking; after the writer stopped)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=60)
            self._thread = None

    # --- indexing thread -----------------------------------------------------------------
    def _next(self, conn: sqlite3.Connection, rebuild: list[Item]) -> list[Item] | None:
        """The next batch: what was queued (new mail first), else a chunk of ``rebuild``."""
        try:
            batch = self._queue.get(block=not rebuild)
        except queue.Empty:
            chunk = rebuild[:MAX_BATCH]
            del rebuild[:MAX_BATCH]
            index_items(conn, chunk)  # not counted: nobody waits for these
            return []
        return batch

    def _run(self, conn: sqlite3.Connection, rebuild: list[Item]) -> None:
        try:
            stopping = False
            while not stopping:
                try:
                    batch = self._next(conn, rebuild)
                except Exception:
                    log.exception("rebuilding the search index failed")
                    rebuild.clear()
                    continue
                if batch is None:
                    break
                if not batch:  # a chunk of the rebuild was indexed
                    continue
                items = list(batch)
                # Let more queue up (without a wake-up per commit: nobody waits on the queue
                # meanwhile), unless a reader waits for what is queued.
                self._hurry.wait(GATHER)
                self._hurry.clear()
                while len(items) < MAX_BATCH:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stopping = True
                        break
                    items += more
                try:
                    index_items(conn, items)
                except Exception:  # e.g. disk full: indexed again at the next start
                    log.exception("search indexing failed for %d messages", len(items))
                self.indexed += len(items)
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                    if self._loop is not None:
                        self._loop.call_soon_threadsafe(self._wake)
        finally:
            conn.close()

    # --- event loop ----------------------------------------------------------------------
    def _wake(self) -> None:
        indexed = self.indexed
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, waiter in self._waiters:
            if target > indexed:
                still.append((target, waiter))
            elif not waiter.done():
                waiter.set_result(None)
        self._waiters = still

    def indexed_future(self) -> asyncio.Future[None]:
        """Resolves once everything committed so far is searchable."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        target = self.submitted
        if self.indexed >= target or self._thread is None:
            waiter.set_result(None)
        else:
            self._waiters.append((target, waiter))
        return waiter

    async def wait(self) -> None:
        """Return once everything committed so far is searchable (hurrying the indexing)."""
        waiter = self.indexed_future()
        if not waiter.done():
            self._hurry.set()
            await asyncio.shield(waiter)
