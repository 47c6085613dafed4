"""The database handle: one writer connection, many readers, versioned migrations.

``Database(location, migrations)`` opens a SQLite file (a path) or a PostgreSQL database (a
``postgresql://`` URL; see :mod:`mailsandbox.storage.postgres`) through its :class:`Backend`;
everything else here is the same for both.

Every write goes through one connection, one transaction at a time (its lock). Usually
:meth:`Database.write` hands a function to the writer thread, which drains whatever is queued
and runs it in one transaction (group commit); a job's future resolves only after COMMIT
returned, which is what lets SMTP answer 250 "after commit". If a job raises, the batch is
rolled back and its jobs are rerun one transaction each, so one failing job cannot spoil its
neighbours. Message ingest and the event engine's steps schedule their jobs ``inline``: on
SQLite, those of one event-loop turn are committed together on the loop itself, sparing the
thread hand-overs, unless the writer thread is busy.
A thread of its own lets the backend do its upkeep (SQLite: WAL checkpoints) beside the
writer: a checkpoint takes tens of milliseconds, which every queued write used to wait for.
Reads run on a small thread pool, each thread with its own connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from mailsandbox import startup
from mailsandbox.storage import txmemo
from mailsandbox.storage.sql import (
    POSTGRESQL,
    SQLITE,
    Connection,
    Sql,
    is_postgresql,
    pipelined,
)
from mailsandbox.storage.sqlite import Attachment, SqliteBackend, stale_snapshot

T = TypeVar("T")
log = logging.getLogger(__name__)

WriteFn = Callable[[Connection], Any]
MigrationStep = Callable[[Connection], None]
MAX_BATCH = 256
MAINTAIN_EVERY = 0.5  # seconds between the backend's upkeep rounds (its own thread)
BUSY_RETRIES = 5  # reruns of a write transaction whose snapshot went stale (see transaction)
# Deferred, not IMMEDIATE: IMMEDIATE would take the write lock of every attached SQLite file
# too (the search index has a writer of its own); the writer thread is the only one writing
# the main file, so taking its lock at the first write never fails.
BEGIN = "BEGIN"


def _not_needed(conn: Connection) -> None:
    return None


NOT_NEEDED: MigrationStep = _not_needed
"""A migration's step for a backend that has nothing to do (e.g. SQLite's moves between
files, or a PostgreSQL schema that started where SQLite's arrived)."""


@dataclass(frozen=True)
class Migration:
    """One schema step. ``id`` is namespaced (``core.0001_messages``) and applied once, in order.

    ``apply`` is the SQLite step, ``postgresql`` the PostgreSQL one: each is plain SQL frozen
    as it shipped, and a step written for one engine only (None) stops a database of the other
    at open, naming the migration, rather than leave it half made."""

    id: str
    apply: MigrationStep
    postgresql: MigrationStep | None = None
    # The step frees much of the file (e.g. rewrites every row smaller): once it has
    # committed, SQLite's file is rebuilt to give the space back (VACUUM; PostgreSQL's
    # autovacuum reuses it in place).
    compact: bool = False

    def step(self, backend: str) -> MigrationStep | None:
        return self.apply if backend == SQLITE else self.postgresql


class Backend(Protocol):
    """What differs between the engines: connecting, checking, migrating, upkeep."""

    name: str  # SQLITE or POSTGRESQL
    inline_writes: bool  # may small writes run on the event loop (see Database.schedule)
    # Seconds the writer waits for more jobs before a transaction, when the last one had
    # company (see Database._write_loop); 0: none.
    group_commit_delay: float
    shared: bool  # several processes may use the database at once (team mode)

    def check(self) -> None: ...

    def connect(self, *, readonly: bool = False) -> Connection: ...

    def setup(self, conn: Connection) -> None: ...

    def migrating(self, conn: Connection) -> contextlib.AbstractContextManager[None]: ...

    def writer_started(self, conn: Connection) -> None: ...

    def writer_stopped(self) -> None: ...

    def maintain(self, db: Database) -> None: ...

    def broken(self, conn: Connection) -> bool: ...

    def size(self, conn: Connection) -> int: ...

    def close(self) -> None: ...


def is_url(location: str | Path) -> bool:
    """Whether a ``--db`` value is a URL (``scheme://...``): never taken for a file name."""
    return isinstance(location, str) and "://" in location


def backend_for(location: str | Path, attachments: Sequence[Attachment] = ()) -> Backend:
    """The backend of a ``--db`` value: a ``postgresql://`` URL or a SQLite file path."""
    if not is_url(location):
        return SqliteBackend(Path(location).expanduser(), attachments)
    try:
        from mailsandbox.storage import postgres  # (imports psycopg: only in PostgreSQL mode)
    except ImportError as exc:
        raise startup.StartupError(
            f"--db {str(location).split('://')[0]}:// needs PostgreSQL support, which is not"
            f" installed ({exc.name} is missing): pip install 'mailsandbox[postgres]'"
        ) from None
    if attachments:
        raise ValueError("SQLite attachments need a SQLite database")
    return postgres.PostgresBackend(str(location))


def transaction(
    conn: Connection,
    body: Callable[[], T],
    on_retry: Callable[[], None] | None = None,
    read_ahead: Sequence[txmemo.ReadAhead] = (),
) -> T:
    """``body()`` between BEGIN and COMMIT on ``conn``; raises if it fails (the transaction
    left to roll back). On PostgreSQL ``read_ahead`` is sent right after the BEGIN (see
    :mod:`~mailsandbox.storage.txmemo`); on SQLite, where a read is a function call, each is
    read only if asked for.

    A transaction that read an attached file (the search index) before that file's own writer
    committed cannot then write it: SQLite answers SQLITE_BUSY at once, which no busy timeout
    waits out (its snapshot is stale). Run again from the start (after ``on_retry``), it sees
    the new snapshot; up to ``BUSY_RETRIES`` times. (PostgreSQL has no such case: its errors
    are raised at once.)
    """
    for attempt in range(BUSY_RETRIES + 1):
        try:
            # (pipelined: the COMMIT has succeeded once the block is left without an error)
            with txmemo.scope(conn):
                with pipelined(conn):
                    conn.execute(BEGIN)
                    if read_ahead and is_postgresql(conn):
                        txmemo.send_ahead(conn, read_ahead)
                    result = body()
                    conn.execute("COMMIT")
                txmemo.committed(conn)
            return result
        except Exception as exc:
            if attempt == BUSY_RETRIES or not stale_snapshot(exc):
                raise
            log.debug("write transaction busy (%s); running it again", exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if on_retry is not None:
                on_retry()
    raise AssertionError("unreachable")


@dataclass
class WriteJob:
    """A queued write. Exactly one of ``future`` (threads) and ``waiter`` (asyncio) is set."""

    fn: WriteFn
    future: concurrent.futures.Future[Any] | None = None
    waiter: asyncio.Future[Any] | None = None
    started: bool = False  # set by the writer thread when the job's transaction begins
    seqs: int = 0  # message seqs it will take (PostgreSQL reserves them with the BEGIN)


Outcome = tuple[WriteJob, Any, BaseException | None]
ReadBarrier = Callable[[], Awaitable[None]]

SCHEMA_MIGRATIONS = Sql(
    "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied REAL)",
    postgresql="CREATE TABLE IF NOT EXISTS schema_migrations"
    " (n INTEGER GENERATED ALWAYS AS IDENTITY, id TEXT PRIMARY KEY, applied DOUBLE PRECISION)",
)
APPLIED = Sql(
    "SELECT id FROM schema_migrations ORDER BY rowid",
    postgresql="SELECT id FROM schema_migrations ORDER BY n",
)
# A migration takes the write lock at once (SQLite: it may not wait for it halfway).
BEGIN_MIGRATION = Sql("BEGIN IMMEDIATE", postgresql="BEGIN")


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
    """Owns the database. :meth:`open` and :meth:`close` it (the lifespan does)."""

    def __init__(
        self,
        location: str | Path,
        migrations: Sequence[Migration],
        read_threads: int = 4,
        attachments: Sequence[Attachment] = (),
    ) -> None:
        self.backend = backend_for(location, attachments)
        self._migrations = migrations  # the Sandbox's own list: add-ons append before open()
        # Called on the writer thread right after each COMMIT / ROLLBACK of its transactions
        # (e.g. the search indexer hands over what a committed transaction staged).
        self.on_commit: list[Callable[[], None]] = []
        self.on_rollback: list[Callable[[], None]] = []
        self._jobs: queue.SimpleQueue[WriteJob | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._upkeep: threading.Thread | None = None
        self._upkeep_stop = threading.Event()
        self._readers = concurrent.futures.ThreadPoolExecutor(
            max_workers=read_threads, thread_name_prefix="db-read"
        )
        self._local = threading.local()
        self._reader_conns: list[Connection] = []
        self.commits = 0  # transactions committed by the writer (for stats and benchmarks)
        self._conn: Connection | None = None  # the writer's connection
        self._lock = threading.Lock()  # held while a transaction runs on ``_conn``
        self._inline: list[WriteJob] = []  # to write on the event loop at its next turn
        self.read_barrier: ReadBarrier | None = None
        # Memoized reads most write transactions make: on PostgreSQL each is sent with the
        # BEGIN (see txmemo.ReadAhead; the Sandbox gives the core's).
        self.read_ahead: list[txmemo.ReadAhead] = []
        # The read that reserves n message seqs for a transaction's jobs (WriteJob.seqs), sent
        # with the other reads ahead (the Sandbox gives messages.reserve_seqs).
        self.reserve: Callable[[int], txmemo.ReadAhead] | None = None

    @property
    def dialect(self) -> str:
        return self.backend.name

    @property
    def path(self) -> Path:
        """The SQLite file (SQLite only)."""
        backend = self.backend
        assert isinstance(backend, SqliteBackend), "a PostgreSQL database has no file"
        return backend.path

    # --- lifecycle -------------------------------------------------------------------
    def open(self) -> None:
        conn = self.connect()
        try:
            self.backend.setup(conn)
            self._migrate(conn)
        finally:
            conn.close()
        self._conn = self.connect()
        self.backend.writer_started(self._conn)
        self._writer = threading.Thread(target=self._write_loop, name="db-writer", daemon=True)
        self._writer.start()
        self._upkeep_stop.clear()
        self._upkeep = threading.Thread(target=self._upkeep_loop, name="db-upkeep", daemon=True)
        self._upkeep.start()

    def check_files(self) -> None:
        """Before :meth:`open`: a database that cannot be used stops the start with a
        :class:`~mailsandbox.startup.StartupError` (see the backend's ``check``)."""
        self.backend.check()

    def close(self) -> None:
        if self._upkeep is not None:  # first: its checkpoint connection closes with the writer
            self._upkeep_stop.set()
            self._upkeep.join(timeout=30)
            self._upkeep = None
        if self._writer is not None:
            self._jobs.put(None)
            self._writer.join(timeout=30)
            self._writer = None
        self._readers.shutdown(wait=True)
        for conn in self._reader_conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._reader_conns.clear()
        self.backend.close()

    def connect(self, *, readonly: bool = False) -> Connection:
        """A new connection to the database (SQLite: with its attachments)."""
        return self.backend.connect(readonly=readonly)

    def ping(self) -> bool:
        try:
            self.read_sync(lambda conn: conn.execute("SELECT 1").fetchone())
            return self._writer is not None and self._writer.is_alive()
        except Exception:
            return False

    # --- migrations ------------------------------------------------------------------
    def _migrate(self, conn: Connection) -> None:
        with self.backend.migrating(conn):  # PostgreSQL: one replica at a time
            conn.execute(SCHEMA_MIGRATIONS)
            done = {row[0] for row in conn.execute("SELECT id FROM schema_migrations")}
            # Upgrading a database is worth a line each; creating a new one is not news.
            level = logging.INFO if done else logging.DEBUG
            pending = [m for m in self._migrations if m.id not in done]
            for migration in pending:  # all checked before any is applied
                if migration.step(self.dialect) is None:
                    raise RuntimeError(f"migration {migration.id} has no {self.dialect} step")
            for migration in pending:
                step = migration.step(self.dialect)
                assert step is not None
                log.log(level, "applying migration %s", migration.id)
                conn.execute(BEGIN_MIGRATION)
                try:
                    step(conn)
                    conn.execute(
                        "INSERT INTO schema_migrations (id, applied) VALUES (?, ?)",
                        (migration.id, time.time()),
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            if self.dialect == SQLITE and any(m.compact for m in pending):
                self._compact(conn)

    @staticmethod
    def _compact(conn: Connection) -> None:
        """Rebuild SQLite's main file without its free pages (outside any transaction, as
        VACUUM must be), then empty the WAL it went through. A stop halfway loses nothing:
        the file just keeps its free pages. Its copy goes to a temporary file, not memory
        (``temp_store``), or a big database would need its size in RAM."""
        started = time.perf_counter()
        conn.execute("PRAGMA temp_store=FILE")
        conn.execute("VACUUM main")
        conn.execute("PRAGMA main.wal_checkpoint(TRUNCATE)").fetchall()
        log.info("database compacted in %.1f s", time.perf_counter() - started)

    def applied_migrations(self) -> list[str]:
        return self.read_sync(lambda conn: [row[0] for row in conn.execute(APPLIED)])

    # --- writing ---------------------------------------------------------------------
    async def write(self, fn: Callable[[Connection], T], *, inline: bool = False) -> T:
        """Run ``fn(conn)`` in the writer's transaction; returns after it is committed.
        ``inline``: see :meth:`schedule`."""
        result: T = await self.schedule(fn, inline=inline).waiter  # type: ignore[misc]
        return result

    def schedule(self, fn: WriteFn, *, inline: bool = False, seqs: int = 0) -> WriteJob:
        """Queue ``fn`` from the event loop; ``job.waiter`` resolves after its commit.
        ``seqs``: how many messages it inserts (see ``WriteJob.seqs``).

        With ``inline`` (and a backend that allows it: SQLite), the job is written on the
        event loop itself at its next turn, in one transaction with every other inline job
        scheduled meanwhile (the writer's connection, under its lock), unless the writer
        thread is busy or has work queued: then they go to it as usual. Message ingest and the
        event engine use it: a group commit without the two thread hand-overs (and GIL
        hand-offs) per batch that a write through the writer thread costs. (The writer
        thread's Python work competes with the loop for the GIL, and while the OS has that
        thread switched out mid-transaction, every write waits for its lock: issue 19 measured
        the SMTP p99 at 8 connections falling when the engine's steps moved to the loop.)
        """
        loop = asyncio.get_running_loop()
        job = WriteJob(fn, waiter=loop.create_future(), seqs=seqs)
        if inline and self.backend.inline_writes:
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

    @contextlib.contextmanager
    def try_write_lock(self) -> Iterator[bool]:
        """Hold the write lock if it is free right now (yields whether it was)."""
        locked = self._lock.acquire(blocking=False)
        try:
            yield locked
        finally:
            if locked:
                self._lock.release()

    def submit(self, fn: Callable[[Connection], T]) -> concurrent.futures.Future[T]:
        """Queue ``fn`` from any thread; the returned future resolves after its commit."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        self._put(WriteJob(fn, future=future))
        return future

    def _put(self, job: WriteJob) -> None:
        if self._writer is None:
            raise RuntimeError("database is not open")
        self._jobs.put(job)

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        return self.submit(fn).result()

    def _write_loop(self) -> None:
        delay = self.backend.group_commit_delay
        company = False  # the last transaction had more than one job
        try:
            while True:
                job: WriteJob | None = self._jobs.get()
                if delay and company and job is not None:
                    # Jobs are arriving together: let more join this transaction. (Each
                    # costs its waits for the server and the thread hand-overs whatever
                    # its size; a lone writer never waits here.)
                    time.sleep(delay)
                batch: list[WriteJob] = []
                while job is not None:
                    batch.append(job)
                    if len(batch) >= MAX_BATCH:
                        break
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                if batch:
                    self._run_batch(batch)
                company = len(batch) > 1
                if job is None:  # closing: everything queued before was written
                    return
        finally:
            self.backend.writer_stopped()
            with self._lock:
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.close()

    def _upkeep_loop(self) -> None:
        """The backend's upkeep, every ``MAINTAIN_EVERY`` seconds until :meth:`close`."""
        while not self._upkeep_stop.wait(MAINTAIN_EVERY):
            try:
                self.backend.maintain(self)
            except Exception:  # (logged; the next round tries again)
                log.exception("database upkeep failed")

    def _run_batch(self, jobs: list[WriteJob]) -> None:
        with self._lock:
            if self._conn is not None and self.backend.broken(self._conn):
                self._reconnect_writer()
            conn = self._conn
            assert conn is not None
            outcomes = self._transact(conn, jobs)
        self._settle(outcomes)

    def _reconnect_writer(self) -> None:
        """The writer's connection dropped (PostgreSQL restarted, a network cut): the jobs
        that were running failed; later ones get a new connection."""
        log.warning("database connection lost: reconnecting")
        old, self._conn = self._conn, None
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        self._conn = self.connect()
        self.backend.writer_started(self._conn)

    def _transact(self, conn: Connection, jobs: list[WriteJob]) -> list[Outcome]:
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

    def _attempt(self, conn: Connection, jobs: list[WriteJob]) -> list[Any]:
        """Run ``jobs`` in one transaction and commit; the results (raises on failure, the
        transaction left to roll back). The jobs are written to be rerun (see ``on_rollback``)."""
        read_ahead = self.read_ahead
        if self.reserve is not None and is_postgresql(conn):  # (SQLite sends nothing ahead)
            wanted = sum(job.seqs for job in jobs)
            if wanted:
                read_ahead = [*read_ahead, self.reserve(wanted)]
        return transaction(
            conn,
            lambda: [job.fn(conn) for job in jobs],
            on_retry=lambda: self._rolled_back(conn),
            read_ahead=read_ahead,
        )

    def _run_alone(self, conn: Connection, job: WriteJob) -> Outcome:
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
        for hook in self.on_commit:
            hook()

    def _rolled_back(self, conn: Connection) -> None:
        if conn.in_transaction:
            with contextlib.suppress(Exception):  # (a dropped connection cannot roll back)
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
    def _reader(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self.backend.broken(conn):
            self._reader_conns.remove(conn)
            with contextlib.suppress(Exception):
                conn.close()
            conn = None
        if conn is None:
            conn = self.connect(readonly=True)
            self._local.conn = conn
            self._reader_conns.append(conn)
        return conn

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` on a reader thread with a read-only connection.

        Waits for ``read_barrier`` first (set by ingest on SQLite: deferred search indexing
        of messages already acknowledged), so a read never sees a message that is not yet
        searchable.
        """
        if self.read_barrier is not None:
            await self.read_barrier()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, lambda: fn(self._reader()))

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        return fn(self._reader())

    def read_beside(self, fn: Callable[[Connection], T]) -> concurrent.futures.Future[T]:
        """From inside a read: run ``fn(conn)`` on another reader thread's connection, while
        the caller carries on with part of its work (``search``'s split count).

        The caller must not wait for the future unless it has started: it cancels it
        (``Future.cancel`` succeeds only before a thread takes it) and does that part itself.
        Reads that wait only for running reads cannot deadlock the pool. No read barrier: the
        calling read waited for it already.
        """
        return self._readers.submit(lambda: fn(self._reader()))


__all__ = [
    "NOT_NEEDED",
    "POSTGRESQL",
    "SQLITE",
    "Attachment",
    "Backend",
    "Database",
    "Migration",
    "WriteFn",
    "backend_for",
    "is_url",
]
