"""Making stored messages searchable: :class:`SearchIndex`, and how each backend does it.

On PostgreSQL (:class:`~mailsandbox.pg_indexer.PgIndexer`) a message's search text is written
in the message's own transaction: searchable once committed, on every replica at once (and
moved into the trigram index on a thread). On SQLite (:class:`SearchIndexer`) indexing runs
beside the message writer, in its own SQLite file and on its own thread, as follows.

FTS5 trigram indexing costs more than storing a message, nearly all of it in SQLite's C code,
which runs without the GIL. So the index lives in a file of its own next to the database
(``<db>-search``, attached as ``search`` to every connection, where ``messages_fts`` resolves
by name), and one thread writes it. Ingest stages a message's search text inside the
message's transaction; right after the COMMIT the writer hands it to the indexing thread, which
indexes whatever has queued up in one transaction at a time, on the other core, while the
message writer carries on. Every API read waits until what was committed before it is
searchable (``Database.read_barrier``), and ``new`` is published once a message is.

If indexing fails (a full disk), the indexer tries again, after pauses growing to
``RETRY_MAX``, until it works: every acknowledged message becomes searchable without a
restart. Meanwhile reads do not wait for it, and search responses say how many messages the
index lacks (:meth:`SearchIndexer.incomplete`).

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
import threading
from pathlib import Path
from typing import Protocol

from mailsandbox import mime
from mailsandbox.pg_indexer import PgIndexer
from mailsandbox.storage import messages
from mailsandbox.storage.db import NOT_NEEDED, Database, Migration, transaction
from mailsandbox.storage.sql import SQLITE, Connection
from mailsandbox.storage.sqlite import IDLE_TRUNCATE, Attachment, truncate_wal

log = logging.getLogger(__name__)

Item = tuple[int, str, str]  # seq, message id, search text ("" with id "": read it from raw)
MAX_BATCH = 1000  # messages per indexing transaction
DROP_STRAYS = "DELETE FROM messages_fts WHERE rowid NOT IN (SELECT seq FROM messages)"
# A batch waits this long for company (FTS5 costs much less per message in bigger
# transactions) unless a reader is waiting for it.
GATHER = 0.02
WAIT_FOR_ALL = 2000  # at start, fewer unindexed messages than this are indexed before reads
AUTOMERGE = 16  # segments FTS5 merges at a time (see _create_index)
RETRY_FIRST, RETRY_MAX = 0.1, 2.0  # pauses between attempts while indexing fails (doubling)


def _create_index(conn: Connection) -> None:
    # Free-text search: trigram tokens give substring matching (Mailpit's "contains") with an
    # index, for any term of 3 characters or more.
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS search.messages_fts"
        " USING fts5(search_text, tokenize='trigram')"
    )
    # FTS5 merges its segments 4 at a time by default; 16 at a time costs ~25 % less CPU per
    # indexed message, and searches take the same time (bench/README.md, "Search index
    # merges"). The setting lives in the index, so an existing one takes it at its next open.
    conn.execute(
        "INSERT INTO search.messages_fts (messages_fts, rank) VALUES ('automerge', ?)",
        (AUTOMERGE,),
    )


def attachment(db_path: Path) -> Attachment:
    """The search index file of the database at ``db_path``: derived data (a damaged one is
    moved aside at start and rebuilt from the stored messages, see ``SearchIndexer.start``)."""
    path = db_path.with_name(db_path.name + "-search")
    return Attachment("search", path, _create_index, derived=True)


def _create_backlog(conn: Connection) -> None:
    conn.execute("CREATE TABLE index_backlog (seq INTEGER PRIMARY KEY, id TEXT NOT NULL)")


def _move_to_own_file(conn: Connection) -> None:
    # The index used to live in the main file, filled from a backlog table by the message
    # writer. Its rows are rebuilt in the search file from the raw messages at start.
    conn.execute("DROP TABLE IF EXISTS main.messages_fts")
    conn.execute("DROP TABLE IF EXISTS main.index_backlog")


MIGRATIONS = [
    Migration("core.0100_index_backlog", _create_backlog, postgresql=NOT_NEEDED),
    Migration("core.0200_search_index_file", _move_to_own_file, postgresql=NOT_NEEDED),
]


def text_from_raw(conn: Connection, seq: int) -> str:
    """Rebuild a message's search text from its stored raw bytes."""
    raw = messages.get_raw_at(conn, seq)
    if raw is None:
        return ""
    try:
        return mime.parse_message(raw).search_text
    except Exception as exc:  # unparseable mail is stored, just not searchable by body
        log.warning("could not index message %s: %s", seq, exc)
        return ""


def unindexed(conn: Connection) -> list[int]:
    """Seqs of stored messages without an index row."""
    rows = conn.execute(
        "SELECT seq FROM messages WHERE seq NOT IN (SELECT rowid FROM messages_fts) ORDER BY seq"
    )
    return [row[0] for row in rows]


def index_items(conn: Connection, items: list[Item]) -> None:
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


class SearchIndex(Protocol):
    """What the mailbox needs to make the messages it stores searchable."""

    # The message's own transaction writes no index row: ``stage`` hands the text over to
    # be indexed after the commit.
    deferred: bool

    def stage(self, seq: int, message_id: str, text: str) -> None: ...

    def start(self, loop: asyncio.AbstractEventLoop) -> None: ...

    def stop(self) -> None: ...

    def indexed_future(self) -> asyncio.Future[None]: ...

    async def wait(self) -> None: ...

    def incomplete(self) -> str: ...


def for_database(db: Database) -> SearchIndex:
    """The search index of ``db``: its own file and thread on SQLite, texts moved into the
    trigram index by a thread on PostgreSQL (:mod:`mailsandbox.pg_indexer`)."""
    if db.dialect != SQLITE:
        return PgIndexer(db)
    indexer = SearchIndexer(db)
    db.read_barrier = indexer.wait  # reads see acknowledged messages as searchable
    return indexer


class SearchIndexer:
    """Stages texts in the writer's transactions and indexes them on a thread of its own."""

    deferred = True

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
        self._wal_dirty = False  # indexed since the index's WAL was last truncated
        self._stopping = threading.Event()
        # Why indexing fails, while it does ("" when it works): reads then go on without
        # waiting for the index, and search responses say how many messages it lacks.
        self.failing = ""
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
        try:  # (another sandbox on this file may be indexing meanwhile)
            transaction(conn, lambda: conn.execute(DROP_STRAYS))
        except BaseException:
            conn.close()
            raise
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
        """Index what is queued, then stop the thread (blocking; after the writer stopped).
        If indexing keeps failing meanwhile, what is left is indexed at the next start."""
        if self._thread is not None:
            self._stopping.set()
            self._queue.put(None)
            self._thread.join(timeout=60)
            self._thread = None

    def behind(self) -> int:
        """Messages committed but not yet searchable."""
        return max(self.submitted - self.indexed, 0)

    # --- indexing thread -----------------------------------------------------------------
    def _next(self, conn: Connection, rebuild: list[Item]) -> list[Item] | None:
        """The next batch: what was queued (new mail first), else a chunk of ``rebuild``
        (indexed here; raises if that fails, the chunk staying in ``rebuild``).

        When nothing has come for ``IDLE_TRUNCATE`` seconds after some indexing, the index's
        WAL is truncated (as the database writer does for the main file's).
        """
        while True:
            try:
                if rebuild:
                    return self._queue.get_nowait()
                return self._queue.get(timeout=IDLE_TRUNCATE if self._wal_dirty else None)
            except queue.Empty:
                if rebuild:
                    index_items(conn, rebuild[:MAX_BATCH])  # not counted: nobody waits
                    del rebuild[:MAX_BATCH]
                    self._wal_dirty = True
                    return []
                self._wal_dirty = not truncate_wal(conn, "search")

    def _run(self, conn: Connection, rebuild: list[Item]) -> None:
        try:
            stopping = False
            delay = RETRY_FIRST
            while not stopping:
                try:
                    batch = self._next(conn, rebuild)
                except Exception as exc:  # a chunk of the rebuild: tried again after a pause
                    self._failed(exc, len(rebuild))
                    if self._stopping.wait(delay):
                        break
                    delay = min(delay * 2, RETRY_MAX)
                    continue
                if batch is None:
                    break
                if not batch:  # a chunk of the rebuild was indexed
                    self._recovered()
                    delay = RETRY_FIRST
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
                if not self._index(conn, items):
                    break
        finally:
            conn.close()

    def _index(self, conn: Connection, items: list[Item]) -> bool:
        """Index ``items``, trying again after a pause for as long as it fails (a full disk:
        every acknowledged message must become searchable once there is room again, without
        a restart). False: the indexer is stopping with them not indexed (the next start
        indexes them, see :meth:`start`)."""
        delay = RETRY_FIRST
        while True:
            try:
                index_items(conn, items)
                break
            except Exception as exc:
                self._failed(exc, len(items))
                if self._stopping.wait(delay):
                    log.error("%d messages not indexed: indexed at the next start", len(items))
                    return False
                delay = min(delay * 2, RETRY_MAX)
        self._wal_dirty = True
        self.indexed += len(items)
        self._recovered()
        self._notify()
        return True

    def _failed(self, exc: Exception, count: int) -> None:
        """Indexing failed: say so (once per spell), and let readers go on without waiting
        (search results then say that they are incomplete, see ``failing``)."""
        if not self.failing:
            log.error("search indexing failed for %d messages, retrying: %s", count, exc)
        self.failing = f"{type(exc).__name__}: {exc}"
        self._notify()

    def _recovered(self) -> None:
        if self.failing:
            log.warning("search indexing works again")
            self.failing = ""

    def _notify(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._wake)

    # --- event loop ----------------------------------------------------------------------
    def _wake(self) -> None:
        indexed = self.indexed
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, waiter in self._waiters:
            if target > indexed and not self.failing:
                still.append((target, waiter))
            elif not waiter.done():
                waiter.set_result(None)
        self._waiters = still

    def indexed_future(self) -> asyncio.Future[None]:
        """Resolves once everything committed so far is searchable; at once while indexing
        fails (the caller goes on, and search results say what they lack: see
        :meth:`incomplete`)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        target = self.submitted
        if self.indexed >= target or self._thread is None or self.failing:
            waiter.set_result(None)
        else:
            self._waiters.append((target, waiter))
        return waiter

    def incomplete(self) -> str:
        """While indexing fails: what search results lack, and why ("" otherwise)."""
        if not self.failing:
            return ""
        return f"{self.behind()} messages are not searchable yet ({self.failing})"

    async def wait(self) -> None:
        """Return once everything committed so far is searchable (hurrying the indexing)."""
        waiter = self.indexed_future()
        if not waiter.done():
            self._hurry.set()
            await asyncio.shield(waiter)
