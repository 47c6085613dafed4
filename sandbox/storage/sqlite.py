"""The SQLite backend: one file (plus derived attachments), WAL, checkpoints off the hot path.

Connections are plain ``sqlite3`` connections (autocommit mode: transactions are explicit
``BEGIN``/``COMMIT``), configured for WAL. Other SQLite files every connection attaches (the
search index, which has a writer of its own) are :class:`Attachment` s. The database's upkeep
thread calls :meth:`SqliteBackend.maintain` beside the writer: it checkpoints the WAL, off the
ingest path, and truncates it when writes pause (or it grows past ``WAL_LIMIT``), so the file
does not keep the size of the biggest burst until shutdown.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailsandbox import startup
from mailsandbox.storage.sql import SQLITE, Connection

if TYPE_CHECKING:
    from mailsandbox.storage.db import Database

log = logging.getLogger(__name__)

# The WAL only shrinks when truncated: the upkeep thread truncates it once changes pause for
# IDLE_TRUNCATE seconds, or as soon as it passes WAL_LIMIT (if no reader holds an old
# snapshot); a WAL reset also cuts the file to WAL_LIMIT (journal_size_limit).
IDLE_TRUNCATE = 1.0
WAL_LIMIT = 64 * 1024 * 1024
BUSY_TIMEOUT_MS = 10_000


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode keeps every commit across a process crash (kill -9); only an OS crash
    # or power cut could lose the last transactions, which is fine for a development tool.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # 8 MB of page cache per connection (writer, readers, checkpointer): at 100,000 messages
    # 32 MB each held the server at ~150 MB of RSS for no speed, as the OS caches the file
    # anyway (bench/README.md, "Memory at 100,000 messages").
    conn.execute("PRAGMA cache_size=-8000")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def truncate_wal(conn: Connection, schema: str = "main") -> bool:
    """Checkpoint ``schema``'s WAL in full and cut the file to zero bytes, if that can be done
    at once: with no busy wait, so a reader still on an old snapshot (or a writer) makes it
    give up instead of blocking. Whether it was done."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        busy = conn.execute(f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError:  # locked
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return not busy


@dataclass(frozen=True)
class Attachment:
    """Another SQLite file every connection attaches under ``name`` (e.g. the search index,
    which has a writer of its own). ``setup`` creates its schema (idempotent; run at open).
    A ``derived`` file holds nothing that cannot be rebuilt: found damaged at open, it is
    moved aside and started afresh (its owner refills it)."""

    name: str
    path: Path
    setup: Callable[[Connection], None]
    derived: bool = False


def check_file(path: Path) -> None:
    """Raise ``sqlite3.DatabaseError`` unless ``path`` is absent or a SQLite file whose
    schema reads (garbage gives "file is not a database"). Cheap: no page scan."""
    if not path.exists():
        return
    conn = sqlite3.connect(str(path), timeout=10.0)
    try:
        conn.execute("SELECT name FROM sqlite_master").fetchall()
    finally:
        conn.close()


def move_aside(path: Path) -> Path:
    """Rename ``path`` (and its ``-wal``/``-shm``) to ``<path>.corrupt-<timestamp>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(aside.with_name(aside.name + suffix))
    path.rename(aside)
    return aside


def connect(
    path: Path, *, readonly: bool = False, attachments: Sequence[Attachment] = ()
) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.row_factory = sqlite3.Row
    _configure(conn)
    for attachment in attachments:
        conn.execute("ATTACH DATABASE ? AS " + attachment.name, (str(attachment.path),))
        conn.execute(f"PRAGMA {attachment.name}.journal_size_limit={WAL_LIMIT}")
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    return conn


def stale_snapshot(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLITE_BUSY from a write whose read snapshot went stale (see
    :func:`mailsandbox.storage.db.transaction`): rerun from the start, it succeeds."""
    return (
        isinstance(exc, sqlite3.OperationalError)
        and exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    )


def file_size(path: Path) -> int:
    """Bytes on disk of an SQLite file and its write-ahead log."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


class SqliteBackend:
    """A SQLite file and its attachments (see :class:`~mailsandbox.storage.db.Backend`)."""

    name = SQLITE
    # Small writes may run on the event loop itself (Database.schedule(inline=True)): a local
    # file's transaction is quicker than two thread hand-overs.
    inline_writes = True
    shared = False  # one process per file
    group_commit_delay = 0.0  # (small writes are written on the event loop, see Database)

    def __init__(self, path: Path, attachments: Sequence[Attachment] = ()) -> None:
        self.path = path
        self.attachments = list(attachments)
        self._checkpoints: sqlite3.Connection | None = None
        # ``PRAGMA data_version`` as the upkeep connection last saw it, and when it changed:
        # it changes when another connection commits changes, not for a transaction that wrote
        # nothing (the event engine looks at its schedule every second in one).
        self._version: int | None = None
        self._changed = 0.0
        self._truncated_version: int | None = None  # ``data_version`` at the last truncation

    def __str__(self) -> str:
        return str(self.path)

    def check(self) -> None:
        """Before opening: a damaged database file stops the start with
        :class:`StartupError` naming it (the user's mail: never moved); a damaged derived
        attachment is moved aside, to be created afresh at open."""
        try:
            check_file(self.path)
        except sqlite3.DatabaseError as exc:
            raise startup.database_error(self.path, exc) from None
        for attachment in self.attachments:
            try:
                check_file(attachment.path)
            except sqlite3.DatabaseError as exc:
                if not attachment.derived:
                    raise startup.database_error(attachment.path, exc) from None
                aside = move_aside(attachment.path)
                log.warning(
                    "%s file %s is damaged (%s): moved it to %s; rebuilding it",
                    attachment.name, attachment.path, exc, aside,
                )  # fmt: skip

    def connect(self, *, readonly: bool = False) -> sqlite3.Connection:
        """A new connection to the database, with its attachments."""
        return connect(self.path, readonly=readonly, attachments=self.attachments)

    def setup(self, conn: Connection) -> None:
        """At open, before the migrations: the attachments' schemas."""
        for attachment in self.attachments:
            conn.execute(f"PRAGMA {attachment.name}.journal_mode=WAL")
            conn.execute(f"PRAGMA {attachment.name}.synchronous=NORMAL")
            attachment.setup(conn)

    @contextlib.contextmanager
    def migrating(self, conn: Connection) -> Iterator[None]:
        yield  # each step takes the write lock (BEGIN IMMEDIATE): one process per file

    def writer_started(self, conn: Connection) -> None:
        # Checkpoints (copying the WAL into the database file) would run inside whichever
        # commit crosses the threshold, often on the event loop; the database's upkeep thread
        # runs them instead, on a connection of its own, beside the writer (see ``maintain``).
        conn.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpoints = connect(self.path)

    def writer_stopped(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()
            self._checkpoints = None

    def maintain(self, db: Database) -> None:
        """On the upkeep thread, every ``MAINTAIN_EVERY``: copy what the WAL holds into the
        database file, without blocking anyone (PASSIVE: the writer appends to the WAL
        meanwhile, and frames a reader still needs stay for the next round); then truncate the
        WAL when changes have paused or it grew past ``WAL_LIMIT`` (see :meth:`_truncate`)."""
        conn = self._checkpoints
        if conn is None:
            return
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            version = _data_version(conn)
            if version != self._version:
                self._version, self._changed = version, time.monotonic()
            idle = time.monotonic() - self._changed >= IDLE_TRUNCATE
            if (idle and version != self._truncated_version) or self._wal_size() > WAL_LIMIT:
                self._truncate(db, conn)
        except sqlite3.Error as exc:
            log.warning("checkpoint failed: %s", exc)

    def _wal_size(self) -> int:
        try:
            return Path(f"{self.path}-wal").stat().st_size
        except OSError:
            return 0

    def _truncate(self, db: Database, conn: sqlite3.Connection) -> None:
        """Truncate the WAL (:func:`truncate_wal`), holding the write lock so that message
        writes on the event loop go to the queue meanwhile rather than wait; skipped this
        round if one is under way. Ingest never waits for it: the PASSIVE checkpoint just
        before left it next to nothing to copy."""
        with db.try_write_lock() as locked:
            if not locked:
                return
            if truncate_wal(conn):
                self._truncated_version = _data_version(conn)  # under the lock: no commit since

    def broken(self, conn: Connection) -> bool:
        return False  # a file connection does not drop

    def size(self, conn: Connection) -> int:
        """Bytes on disk: the database file and its WAL."""
        return file_size(self.path)

    def close(self) -> None:
        self.writer_stopped()
