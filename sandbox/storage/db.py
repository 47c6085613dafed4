"""The database handle: one writer thread, many readers, versioned migrations.

Every write goes through :meth:`Database.write`, which hands a function to a single writer
thread. The writer drains whatever is queued and runs it in one transaction (group commit),
each job inside its own SAVEPOINT so one failing job cannot spoil its neighbours; a job's
future resolves only after COMMIT returned, which is what lets SMTP answer 250 "after commit".
Reads run on a small thread pool, each thread with its own connection (WAL lets them run
alongside the writer).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

T = TypeVar("T")
log = logging.getLogger(__name__)

WriteFn = Callable[[sqlite3.Connection], Any]
MAX_BATCH = 256


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
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA cache_size=-32000")
    conn.execute("PRAGMA temp_store=MEMORY")


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=10.0
    )
    conn.row_factory = sqlite3.Row
    _configure(conn)
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    return conn


@dataclass
class _Job:
    fn: WriteFn
    future: concurrent.futures.Future[Any]


class Database:
    """Owns the SQLite file. Open with :meth:`open`, close with :meth:`close` (the lifespan does)."""

    def __init__(self, path: Path, migrations: Sequence[Migration], read_threads: int = 4) -> None:
        self.path = path
        self._migrations = list(migrations)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers = concurrent.futures.ThreadPoolExecutor(
            max_workers=read_threads, thread_name_prefix="db-read"
        )
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._engine: Engine | None = None
        self.commits = 0  # transactions committed by the writer (for stats and benchmarks)

    # --- lifecycle -------------------------------------------------------------------
    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path)
        try:
            self._migrate(conn)
        finally:
            conn.close()
        self._writer = threading.Thread(target=self._write_loop, name="db-writer", daemon=True)
        self._writer.start()

    def close(self) -> None:
        if self._writer is not None:
            self._jobs.put(None)
            self._writer.join(timeout=30)
            self._writer = None
        self._readers.shutdown(wait=True)
        for conn in self._reader_conns:
            conn.close()
        self._reader_conns.clear()
        if self._engine is not None:
            self._engine.dispose()

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
        for migration in self._migrations:
            if migration.id in done:
                continue
            log.info("applying migration %s", migration.id)
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
        return await asyncio.wrap_future(self.submit(fn))

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> concurrent.futures.Future[T]:
        if self._writer is None:
            raise RuntimeError("database is not open")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put(_Job(fn, future))
        return future

    def write_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self.submit(fn).result()

    def _write_loop(self) -> None:
        conn = connect(self.path)
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                batch = [job]
                stop = False
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                self._run_batch(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                if not job.future.set_running_or_notify_cancel():
                    continue
                conn.execute("SAVEPOINT job")
                try:
                    result = job.fn(conn)
                except BaseException as exc:  # the job's own failure; neighbours go on
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((job, None, exc))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((job, result, None))
            conn.execute("COMMIT")
            self.commits += 1
        except BaseException as exc:  # the transaction itself failed: nobody was committed
            log.exception("write batch failed")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in batch:
                if job.future.running():
                    job.future.set_exception(exc)
            return
        for job, result, error in outcomes:
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)

    # --- reading ---------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            self._local.conn = conn
            self._reader_conns.append(conn)
        return conn

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on a reader thread with a read-only connection."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, lambda: fn(self._reader()))

    def read_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return fn(self._reader())

    @property
    def engine(self) -> Engine:
        """SQLAlchemy engine for SQLModel sessions (reads and tooling)."""
        if self._engine is None:
            engine = create_engine(
                f"sqlite:///{self.path}", connect_args={"check_same_thread": False}
            )

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
                _configure(dbapi_conn)

            self._engine = engine
        return self._engine

    def session(self) -> Session:
        return Session(self.engine)
