"""The database handle: one writer connection, many readers, versioned migrations.

Every write goes through one connection, one transaction at a time (its lock). Usually
:meth:`Database.write` hands a function to the writer thread, which drains whatever is queued
and runs it in one transaction (group commit); a job's future resolves only after COMMIT
returned, which is what lets SMTP answer 250 "after commit". If a job raises, the batch is
rolled back and its jobs are rerun one transaction each, so one failing job cannot spoil its
neighbours. Message ingest schedules its jobs ``inline``: those of one event-loop turn are
committed together on the loop itself, sparing the thread hand-overs, unless the writer thread
is busy. :meth:`Database.defer` queues work that may wait a few milliseconds to be batched with
more of its kind (the event engine's steps), run in its own transaction. The writer thread also
checkpoints the WAL, off the ingest path, and truncates it when writes pause (or it grows past
``WAL_LIMIT``), so the file does not keep the size of the biggest burst until shutdown. Reads
run on a small thread pool, each thread with its own connection (WAL lets them run alongside
the writer). Attached files (the search index) are attached to every connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mailsandbox import startup

T = TypeVar("T")
log = logging.getLogger(__name__)

WriteFn = Callable[[sqlite3.Connection], Any]
MAX_BATCH = 256
DEFER_DELAY = 0.05  # deferred jobs wait this long for company (readers can hurry them)
CHECKPOINT_EVERY = 0.5  # seconds between WAL checkpoints by the writer thread
# The WAL only shrinks when truncated: the writer thread truncates it once writes pause for
# IDLE_TRUNCATE seconds, or as soon as it passes WAL_LIMIT (if no reader holds an old
# snapshot); a WAL reset also cuts the file to WAL_LIMIT (journal_size_limit).
IDLE_TRUNCATE = 1.0
WAL_LIMIT = 64 * 1024 * 1024
BUSY_TIMEOUT_MS = 10_000
BUSY_RETRIES = 5  # reruns of a write transaction whose snapshot went stale (see transaction)
# Deferred, not IMMEDIATE: IMMEDIATE would take the write lock of every attached file too
# (the search index has a writer of its own); the writer thread is the only one writing the
# main file, so taking its lock at the first write never fails.
BEGIN = "BEGIN"


@dataclass(frozen=True)
class Migration:
    """One schema step. ``id`` is namespaced (``core.0001_messages``) and applied once, in order."""

    id: str
    apply: Callable[[sqlite3.Connection], None]


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode keeps every commit across a process crash (kill -9); only an OS crash
    # or power cut could lose the last transactions, which is fine for a development tool.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA cache_size=-32000")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")


def truncate_wal(conn: sqlite3.Connection, schema: str = "main") -> bool:
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


def transaction(
    conn: sqlite3.Connection, body: Callable[[], T], on_retry: Callable[[], None] | None = None
) -> T:
    """``body()`` between BEGIN and COMMIT on ``conn``; raises if it fails (the transaction
    left to roll back).

    A transaction that read an attached file (the search index) before that file's own writer
    committed cannot then write it: SQLite answers SQLITE_BUSY at once, which no busy timeout
    waits out (its snapshot is stale). Run again from the start (after ``on_retry``), it sees
    the new snapshot; up to ``BUSY_RETRIES`` times.
    """
    for attempt in range(BUSY_RETRIES + 1):
        try:
            conn.execute(BEGIN)
            result = body()
            conn.execute("COMMIT")
            return result
        except sqlite3.OperationalError as exc:
            if attempt == BUSY_RETRIES or exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            log.debug("write transaction busy (%s); running it again", exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if on_retry is not None:
                on_retry()
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Attachment:
    """Another SQLite file every connection attaches under ``name`` (e.g. the search index,
    which has a writer of its own). ``setup`` creates its schema (idempotent; run at open).
    A ``derived`` file holds nothing that cannot be rebuilt: found damaged at open, it is
    moved aside and started afresh (its owner refills it)."""

    name: str
    path: Path
    setup: Callable[[sqlite3.Connection], None]
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


@dataclass
class WriteJob:
    """A queued write. Exactly one of ``future`` (threads) and ``waiter`` (asyncio) is set."""

    fn: WriteFn
    future: concurrent.futures.Future[Any] | None = None
    waiter: asyncio.Future[Any] | None = None
    deferred: bool = False
    expedite: bool = False  # run whatever is deferred now (someone is waiting for it)
    started: bool = False  # set by the writer thread when the job's transaction begins


Outcome = tuple[WriteJob, Any, BaseException | None]
ReadBarrier = Callable[[], Awaitable[None]]


def _no_op(conn: sqlite3.Connection) -> None:
    return None


def _settle_waiters(outcomes: list[Outcome]) -> None:
    """On the waiters' loop: hand each job's result over (one wake-up per batch, not per job)."""
    for job, result, error in outcomes:
        waiter = job.waiter
        if waiter is None or waiter.done():
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(result)


class Database:
    """Owns the SQLite file. :meth:`open` and :meth:`close` it (the lifespan does)."""

    def __init__(
        self,
        path: Path,
        migrations: Sequence[Migration],
        read_threads: int = 4,
        attachments: Sequence[Attachment] = (),
    ) -> None:
        self.path = path
        self._migrations = migrations  # the Sandbox's own list: add-ons append before open()
        self.attachments = list(attachments)
        # Called on the writer thread right after each COMMIT / ROLLBACK of its transactions
        # (e.g. the search indexer hands over what a committed transaction staged).
        self.on_commit: list[Callable[[], None]] = []
        self.on_rollback: list[Callable[[], None]] = []
        self._jobs: queue.SimpleQueue[WriteJob | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers = concurrent.futures.ThreadPoolExecutor(
            max_workers=read_threads, thread_name_prefix="db-read"
        )
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self.commits = 0  # transactions committed by the writer (for stats and benchmarks)
        self._conn: sqlite3.Connection | None = None  # the writer's connection
        self._lock = threading.Lock()  # held while a transaction runs on ``_conn``
        self._inline: list[WriteJob] = []  # to write on the event loop at its next turn
        self._last_commit = 0.0  # time.monotonic() of the last commit
        self._truncated_at = -1  # ``commits`` when the WAL was last truncated
        self.read_barrier: ReadBarrier | None = None

    # --- lifecycle -------------------------------------------------------------------
    def open(self) -> None:
        conn = self.connect()
        try:
            for attachment in self.attachments:
                conn.execute(f"PRAGMA {attachment.name}.journal_mode=WAL")
                conn.execute(f"PRAGMA {attachment.name}.synchronous=NORMAL")
                attachment.setup(conn)
            self._migrate(conn)
        finally:
            conn.close()
        self._conn = self.connect()
        # Checkpoints (copying the WAL into the database file) would run inside whichever
        # commit crosses the threshold, often on the event loop; the writer thread runs them
        # instead, on a connection of its own, between its jobs (see ``_checkpoint``).
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._writer = threading.Thread(
            target=self._write_loop, args=(self._conn,), name="db-writer", daemon=True
        )
        self._writer.start()

    def check_files(self) -> None:
        """Before :meth:`open`: a damaged database file stops the start with
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

    def close(self) -> None:
        if self._writer is not None:
            self._jobs.put(None)
            self._writer.join(timeout=30)
            self._writer = None
        self._readers.shutdown(wait=True)
        for conn in self._reader_conns:
            conn.close()
        self._reader_conns.clear()

    def connect(self, *, readonly: bool = False) -> sqlite3.Connection:
        """A new connection to the database, with its attachments."""
        return connect(self.path, readonly=readonly, attachments=self.attachments)

    def ping(self) -> bool:
        try:
            self._reader().execute("SELECT 1").fetchone()
            return self._writer is not None and self._writer.is_alive()
        except sqlite3.Error:
            return False

    # --- migrations ------------------------------------------------------------------
    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied REAL)"
        )
        done = {row[0] for row in conn.execute("SELECT id FROM schema_migrations")}
        # Upgrading a database is worth a line each; creating a new one is not news.
        level = logging.INFO if done else logging.DEBUG
        for migration in self._migrations:
            if migration.id in done:
                continue
            log.log(level, "applying migration %s", migration.id)
            conn.execute("BEGIN IMMEDIATE")
            try:
                migration.apply(conn)
                conn.execute(
                    "INSERT INTO schema_migrations (id, applied) VALUES (?, ?)",
                    (migration.id, time.time()),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def applied_migrations(self) -> list[str]:
        rows = self._reader().execute("SELECT id FROM schema_migrations ORDER BY rowid")
        return [row[0] for row in rows]

    # --- writing ---------------------------------------------------------------------
    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` in the writer's transaction; returns after it is committed."""
        result: T = await self.schedule(fn).waiter  # type: ignore[misc]
        return result

    async def defer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Like :meth:`write`, but the job may wait up to ``DEFER_DELAY`` to be batched."""
        result: T = await self.schedule(fn, deferred=True).waiter  # type: ignore[misc]
        return result

    def schedule(self, fn: WriteFn, *, deferred: bool = False, inline: bool = False) -> WriteJob:
        """Queue ``fn`` from the event loop; ``job.waiter`` resolves after its commit.

        With ``inline``, the job is written on the event loop itself at its next turn, in one
        transaction with every other inline job scheduled meanwhile (the writer's connection,
        under its lock), unless the writer thread is busy or has work queued: then they go
        to it as usual. Message ingest uses it: a group commit without the two thread
        hand-overs (and GIL hand-offs) per batch that a write through the writer thread costs.
        """
        loop = asyncio.get_running_loop()
        job = WriteJob(fn, waiter=loop.create_future(), deferred=deferred)
        if inline and not deferred:
            if not self._inline:
                loop.call_soon(self._write_inline)
            self._inline.append(job)
            return job
        self._put(job)
        return job

    def _write_inline(self) -> None:
        """On the event loop: write the inline jobs gathered this turn (see ``schedule``)."""
        jobs, self._inline = self._inline, []
        if self._jobs.empty() and self._lock.acquire(blocking=False):
            try:
                conn = self._conn  # None once the writer stopped
                outcomes = self._transact(conn, jobs) if conn is not None else None
            finally:
                self._lock.release()
            if outcomes is not None:
                _settle_waiters(outcomes)
                return
        for job in jobs:
            self._put(job)

    def submit(
        self, fn: Callable[[sqlite3.Connection], T], *, deferred: bool = False
    ) -> concurrent.futures.Future[T]:
        """Queue ``fn`` from any thread; the returned future resolves after its commit."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        self._put(WriteJob(fn, future=future, deferred=deferred))
        return future

    def expedite(self) -> None:
        """Ask the writer to run deferred jobs now instead of waiting for company."""
        self._put(WriteJob(_no_op, expedite=True))

    def _put(self, job: WriteJob) -> None:
        if self._writer is None:
            raise RuntimeError("database is not open")
        self._jobs.put(job)

    def write_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self.submit(fn).result()

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        deferred: list[WriteJob] = []
        deferred_since = 0.0
        checkpoints = connect(self.path)
        checkpointed = time.monotonic()
        try:
            while True:
                if time.monotonic() - checkpointed >= CHECKPOINT_EVERY:
                    self._checkpoint(checkpoints)
                    checkpointed = time.monotonic()
                if deferred:
                    wait = deferred_since + DEFER_DELAY - time.monotonic()
                    try:
                        job = self._jobs.get(timeout=wait) if wait > 0 else self._jobs.get_nowait()
                    except queue.Empty:
                        self._run_batch(conn, deferred)
                        deferred = []
                        continue
                else:
                    try:
                        job = self._jobs.get(timeout=CHECKPOINT_EVERY)
                    except queue.Empty:
                        continue
                batch: list[WriteJob] = []
                hurry = False
                while job is not None:
                    hurry = hurry or job.expedite
                    if job.expedite:
                        pass
                    elif job.deferred:
                        if not deferred:
                            deferred_since = time.monotonic()
                        deferred.append(job)
                    else:
                        batch.append(job)
                    if len(batch) >= MAX_BATCH:
                        break
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                if batch:
                    self._run_batch(conn, batch)
                if job is None:  # closing: finish what was deferred, then stop
                    if deferred:
                        self._run_batch(conn, deferred)
                    return
                if deferred and (hurry or time.monotonic() - deferred_since >= DEFER_DELAY):
                    self._run_batch(conn, deferred)
                    deferred = []
        finally:
            checkpoints.close()
            with self._lock:
                self._conn = None
                conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        """Copy what the WAL holds into the database file, without blocking anyone (PASSIVE:
        frames a reader still needs stay for the next round); then truncate the WAL when
        writes have paused or it grew past ``WAL_LIMIT`` (see :meth:`_truncate`)."""
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            idle = time.monotonic() - self._last_commit >= IDLE_TRUNCATE
            if (idle and self.commits != self._truncated_at) or self._wal_size() > WAL_LIMIT:
                self._truncate(conn)
        except sqlite3.Error as exc:
            log.warning("checkpoint failed: %s", exc)

    def _wal_size(self) -> int:
        try:
            return Path(f"{self.path}-wal").stat().st_size
        except OSError:
            return 0

    def _truncate(self, conn: sqlite3.Connection) -> None:
        """Truncate the WAL (:func:`truncate_wal`), holding the write lock so that message
        writes on the event loop go to the queue meanwhile rather than wait; skipped this
        round if one is under way. Ingest never waits for it: the PASSIVE checkpoint just
        before left it next to nothing to copy."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            commits = self.commits
            if truncate_wal(conn):
                self._truncated_at = commits
        finally:
            self._lock.release()

    def _run_batch(self, conn: sqlite3.Connection, jobs: list[WriteJob]) -> None:
        with self._lock:
            outcomes = self._transact(conn, jobs)
        self._settle(outcomes)

    def _transact(self, conn: sqlite3.Connection, jobs: list[WriteJob]) -> list[Outcome]:
        """Run ``jobs`` in one transaction (holding ``_lock``); each one's outcome."""
        for job in jobs:
            job.started = True
        try:
            results = self._attempt(conn, jobs)
        except BaseException as exc:
            self._rolled_back(conn)
            if len(jobs) == 1:
                return [(jobs[0], None, exc)]
            return [self._run_alone(conn, job) for job in jobs]  # one transaction each
        self._committed()
        return [(job, result, None) for job, result in zip(jobs, results, strict=True)]

    def _attempt(self, conn: sqlite3.Connection, jobs: list[WriteJob]) -> list[Any]:
        """Run ``jobs`` in one transaction and commit; the results (raises on failure, the
        transaction left to roll back). The jobs are written to be rerun (see ``on_rollback``)."""
        return transaction(
            conn, lambda: [job.fn(conn) for job in jobs], on_retry=lambda: self._rolled_back(conn)
        )

    def _run_alone(self, conn: sqlite3.Connection, job: WriteJob) -> Outcome:
        try:
            result = self._attempt(conn, [job])[0]
        except BaseException as exc:
            self._rolled_back(conn)
            log.debug("write job failed: %r", exc)
            return (job, None, exc)
        self._committed()
        return (job, result, None)

    def _committed(self) -> None:
        self.commits += 1
        self._last_commit = time.monotonic()
        for hook in self.on_commit:
            hook()

    def _rolled_back(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        for hook in self.on_rollback:
            hook()

    @staticmethod
    def _settle(outcomes: list[Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
        for outcome in outcomes:
            job, result, error = outcome
            if job.waiter is not None:
                by_loop.setdefault(job.waiter.get_loop(), []).append(outcome)
            elif job.future is not None:
                if error is not None:
                    job.future.set_exception(error)
                else:
                    job.future.set_result(result)
        for loop, items in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle_waiters, items)

    # --- reading ---------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.connect(readonly=True)
            self._local.conn = conn
            self._reader_conns.append(conn)
        return conn

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on a reader thread with a read-only connection.

        Waits for ``read_barrier`` first (set by ingest: deferred search indexing of messages
        already acknowledged), so a read never sees a message that is not yet searchable.
        """
        if self.read_barrier is not None:
            await self.read_barrier()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, lambda: fn(self._reader()))

    def read_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return fn(self._reader())
