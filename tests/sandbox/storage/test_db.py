"""The Database: group commit, failing jobs isolated, migrations, read barrier, WAL upkeep
(on both backends; inline writes and WAL checkpoints are SQLite's own)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mailsandbox.storage import db as dbmod
from mailsandbox.storage import sql, txmemo
from mailsandbox.storage.db import Database, Migration
from mailsandbox.storage.sql import Connection
from tests.conftest import Databases
from tests.postgres import Cluster
from tests.waiting import eventually, eventually_async

INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.errors.IntegrityError)


def _schema(conn: Connection) -> None:
    conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, note TEXT)")


def _migration(step: dbmod.MigrationStep = _schema, name: str = "test.0001") -> Migration:
    return Migration(name, step, postgresql=step)


@pytest.fixture
def location(tmp_path: Path, databases: Databases) -> str:
    """A new, empty database."""
    return databases.new(tmp_path, migrated=False)


@pytest.fixture
def database(location: str) -> Iterator[Database]:
    database = Database(location, [_migration()])
    database.open()
    yield database
    database.close()


def _insert(n: int) -> dbmod.WriteFn:
    return lambda conn: conn.execute("INSERT INTO t (n) VALUES (?) RETURNING n", (n,)).fetchone()[0]


def _rows(database: Database) -> list[int]:
    return [r[0] for r in database.read_sync(lambda c: c.execute("SELECT n FROM t ORDER BY n"))]


def test_concurrent_writes_share_commits(database: Database) -> None:
    async def burst() -> list[int]:
        return await asyncio.gather(*(database.write(_insert(n)) for n in range(1, 201)))

    assert asyncio.run(burst()) == list(range(1, 201))
    assert _rows(database) == list(range(1, 201))
    assert database.commits < 200  # group commit: several jobs per transaction


def test_a_failing_job_does_not_spoil_its_batch(database: Database) -> None:
    def boom(conn: Connection) -> None:
        conn.execute("INSERT INTO t (n) VALUES (1000)")
        raise ValueError("job failed")

    async def mixed() -> list[object]:
        jobs = [database.write(_insert(1)), database.write(boom), database.write(_insert(2))]
        return await asyncio.gather(*jobs, return_exceptions=True)

    first, failed, last = asyncio.run(mixed())
    assert (first, last) == (1, 2)
    assert isinstance(failed, ValueError)
    assert _rows(database) == [1, 2]  # the failing job's own insert was rolled back


@pytest.mark.sqlite_only  # (SQLite's stale snapshot of an attached file; no such case there)
def test_a_write_whose_snapshot_went_stale_is_run_again(database: Database) -> None:
    """Another connection commits to the file between this transaction's first read and its
    first write (the search indexer does that to the attached index): SQLite refuses the
    write at once with "database is locked"; the writer runs the transaction again."""
    attempts = []

    def read_then_write(conn: sqlite3.Connection) -> int:
        attempts.append(conn.execute("SELECT count(*) FROM t").fetchone()[0])
        if len(attempts) == 1:
            other = sqlite3.connect(database.path, timeout=10, isolation_level=None)
            other.execute("INSERT INTO t (n) VALUES (500)")
            other.close()
        return int(conn.execute("INSERT INTO t (n) VALUES (501)").lastrowid or 0)

    assert asyncio.run(database.write(read_then_write)) == 501
    assert attempts == [0, 1]  # the second run saw the other commit
    assert _rows(database) == [500, 501]


def test_write_sync_from_a_thread(database: Database) -> None:
    assert database.write_sync(_insert(7)) == 7
    with pytest.raises(INTEGRITY_ERRORS):
        database.write_sync(_insert(7))


def _unread_duplicate(conn: Connection) -> None:
    """Inserts a row twice and reads no result: pipelined, the error is still on its way
    when the job returns."""
    conn.execute("INSERT INTO t (n) VALUES (900)")
    conn.execute("INSERT INTO t (n) VALUES (900)")


def test_an_error_nobody_read_still_fails_its_job_and_nothing_else(database: Database) -> None:
    """The writer's transactions are pipelined on PostgreSQL (statements sent without
    waiting): a failing statement whose result no one reads fails its job at the commit, the
    job is not acknowledged, and its neighbours in the batch are committed."""

    async def mixed() -> list[object]:
        jobs = [database.write(_insert(1)), database.write(_unread_duplicate)]
        return await asyncio.gather(*jobs, database.write(_insert(2)), return_exceptions=True)

    first, failed, last = asyncio.run(mixed())
    assert (first, last) == (1, 2)
    assert isinstance(failed, INTEGRITY_ERRORS)
    assert _rows(database) == [1, 2]


def _statements(conn: Connection) -> list[object]:
    """Every result the stores read (rows, counts, new ids), after writes nobody read."""
    conn.execute("INSERT INTO t (n, note) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    conn.execute("UPDATE t SET note = 'x' WHERE n > 1")
    changed = conn.execute("UPDATE t SET note = 'y' WHERE n > 1").rowcount
    many = conn.executemany("INSERT INTO t (n) VALUES (?)", [(4,), (5,)])
    added = conn.execute("INSERT INTO t (n, note) VALUES (6, 'z') RETURNING n").lastrowid
    first = conn.execute("SELECT n, note FROM t WHERE n = 2").fetchone()
    conn.execute("DELETE FROM t WHERE n = 1")
    rows = [tuple(row) for row in conn.execute("SELECT n, note FROM t ORDER BY n")]
    none = conn.execute("SELECT n FROM t WHERE n > 100").fetchall()
    deleted = conn.execute("DELETE FROM t WHERE n >= 5").rowcount
    return [changed, many.rowcount >= 0, added, tuple(first), first["note"], rows, none, deleted]


def test_a_pipelined_transaction_reads_what_a_plain_one_reads(location: str) -> None:
    """Pipeline mode (the writer's, :func:`~mailsandbox.storage.sql.pipelined`) against
    statements each waited for: the same results, the same rows committed."""
    answers, tables = [], []
    for pipeline in (False, True):
        conn = dbmod.backend_for(location).connect()
        try:
            conn.execute("DROP TABLE IF EXISTS t")
            _schema(conn)
            mode = sql.pipelined(conn) if pipeline else contextlib.nullcontext()
            with mode:
                conn.execute("BEGIN")
                answers.append(_statements(conn))
                conn.execute("COMMIT")
            tables.append([tuple(r) for r in conn.execute("SELECT * FROM t ORDER BY n")])
        finally:
            conn.close()
    assert answers[0] == answers[1]
    assert answers[0][0] == 2 and answers[0][-1] == 2  # (counts, not -1 for "unknown")
    assert tables[0] == tables[1] == [(2, "y"), (3, "y"), (4, None)]


def test_a_read_sent_ahead_answers_as_the_plain_read(database: Database) -> None:
    """A memoized read the database sends with every BEGIN (on PostgreSQL; SQLite reads it
    when asked): the job gets what reading it then would give, a write it forgets is read
    again, and a job that never asks is not disturbed."""
    ahead = txmemo.ReadAhead(
        "test.count",
        lambda conn: conn.execute("SELECT count(*), max(n) FROM t"),
        lambda cursor: tuple(cursor.fetchone()),
    )
    database.read_ahead.append(ahead)
    database.write_sync(_insert(3))  # (never asks)

    def job(conn: Connection) -> list[object]:
        first = txmemo.once(conn, ahead.key, lambda: ahead.read(conn))
        conn.execute("INSERT INTO t (n) VALUES (9)")
        kept = txmemo.once(conn, ahead.key, lambda: ahead.read(conn))
        txmemo.forget(conn, ahead.key)
        again = txmemo.once(conn, ahead.key, lambda: ahead.read(conn))
        return [first, kept, again, ahead.read(conn)]

    assert database.write_sync(job) == [(1, 3), (1, 3), (2, 9), (2, 9)]
    assert _rows(database) == [3, 9]


def test_an_answer_kept_for_after_the_commit_is_read_once_committed(database: Database) -> None:
    """``txmemo.after_commit``: on PostgreSQL (pipelined) the answer is read once the
    transaction has committed, so nothing waits for it meanwhile, and not at all if the
    transaction fails; on SQLite, where reading costs no round trip, at once. Either way it
    is the statement's answer."""
    seen: list[object] = []

    def keep(conn: Connection, n: int) -> list[object]:
        cursor = conn.execute("INSERT INTO t (n) VALUES (?), (?) RETURNING n", (n, n + 1))
        txmemo.after_commit(conn, cursor, lambda c: seen.append(sorted(r[0] for r in c)))
        return list(seen)

    during = database.write_sync(lambda conn: keep(conn, 5))
    assert seen == [[5, 6]]
    pipelined = database.dialect == sql.POSTGRESQL
    assert during == ([] if pipelined else [[5, 6]])

    def failing(conn: Connection) -> None:
        keep(conn, 7)
        conn.execute("INSERT INTO t (n) VALUES (5)")  # (a duplicate: the transaction fails)

    with pytest.raises(INTEGRITY_ERRORS):
        database.write_sync(failing)
    assert seen == ([[5, 6]] if pipelined else [[5, 6], [7, 8]])
    assert _rows(database) == [5, 6]


def test_close_finishes_queued_work(location: str) -> None:
    database = Database(location, [_migration()])
    database.open()
    futures = [database.submit(_insert(n)) for n in range(5, 10)]
    database.close()
    assert [future.result(5) for future in futures] == [5, 6, 7, 8, 9]


def test_read_barrier_runs_before_reads(database: Database) -> None:
    order: list[str] = []

    async def barrier() -> None:
        order.append("barrier")

    database.read_barrier = barrier

    async def read() -> None:
        await database.read(lambda conn: order.append("read"))

    asyncio.run(read())
    assert order == ["barrier", "read"]


def test_migrations_apply_once_in_order(location: str) -> None:
    calls: list[str] = []

    def first(conn: Connection) -> None:
        calls.append("1")
        _schema(conn)

    def second(conn: Connection) -> None:
        calls.append("2")

    steps = [_migration(first, "x.0001"), _migration(second, "x.0002")]
    for _ in range(2):
        database = Database(location, steps)
        database.open()
        assert database.applied_migrations() == ["x.0001", "x.0002"]
        database.close()
    assert calls == ["1", "2"]


def test_a_failing_migration_is_rolled_back(location: str) -> None:
    def broken(conn: Connection) -> None:
        conn.execute("CREATE TABLE half (x INTEGER)")
        raise RuntimeError("bad step")

    database = Database(location, [_migration(broken, "x.0001")])
    with pytest.raises(RuntimeError):
        database.open()
    database = Database(location, [_migration(name="x.0002")])  # a working one after it
    database.open()
    try:
        assert database.applied_migrations() == ["x.0002"]
        with pytest.raises(Exception, match="half"):  # no such table
            database.read_sync(lambda conn: conn.execute("SELECT x FROM half").fetchall())
    finally:
        database.close()


def test_a_migration_for_sqlite_only_stops_a_postgresql_database(
    postgres_cluster: Cluster,
) -> None:
    """A step nobody wrote for PostgreSQL is refused by name, before anything is applied."""
    url = postgres_cluster.database(migrated=False)
    try:
        database = Database(url, [_migration(name="x.0001"), Migration("x.0002", _schema)])
        with pytest.raises(RuntimeError, match=r"x\.0002 has no postgresql step"):
            database.open()
        empty = Database(url, [])
        empty.open()
        assert empty.applied_migrations() == []
        empty.close()
    finally:
        postgres_cluster.drop(url)


@pytest.mark.sqlite_only  # (PostgreSQL writes never run on the event loop)
def test_inline_jobs_of_one_turn_share_a_commit_on_the_loop(database: Database) -> None:
    async def burst() -> tuple[list[int], int]:
        jobs = [database.schedule(_insert(n), inline=True) for n in range(1, 51)]
        before = database.commits
        results = await asyncio.gather(*(job.waiter for job in jobs if job.waiter is not None))
        return list(results), database.commits - before

    results, commits = asyncio.run(burst())
    assert results == list(range(1, 51))
    assert commits == 1  # all fifty in the transaction of that turn
    assert _rows(database) == list(range(1, 51))


@pytest.mark.sqlite_only
def test_the_writer_checkpoints_the_wal_into_the_database_file(
    database: Database, tmp_path: Path
) -> None:
    for n in range(1, 101):
        database.write_sync(_insert(n))
    copy = tmp_path / "copy.db"  # the main file alone: what a checkpoint has written there

    def checkpointed() -> int:
        shutil.copyfile(database.path, copy)
        with contextlib.closing(sqlite3.connect(copy)) as conn:
            try:
                return int(conn.execute("SELECT COUNT(*) FROM t").fetchone()[0])
            except sqlite3.OperationalError:  # not even the table checkpointed yet
                return 0

    eventually(lambda: checkpointed() == 100, what="all 100 rows in the main file")


@pytest.mark.sqlite_only
def test_the_wal_is_cut_once_changes_pause_though_empty_transactions_go_on(
    database: Database,
) -> None:
    """The event engine looks at its schedule in a write transaction every second, which
    changes nothing when nothing is due: the WAL must still be truncated once changes pause."""
    for n in range(1, 101):
        database.write_sync(_insert(n))
    wal = Path(f"{database.path}-wal")
    assert wal.stat().st_size > 0
    stop = threading.Event()

    def look_without_changing() -> None:
        while not stop.is_set():
            database.write_sync(lambda conn: conn.execute("SELECT COUNT(*) FROM t").fetchone())

    looker = threading.Thread(target=look_without_changing)
    looker.start()
    try:
        eventually(lambda: wal.stat().st_size == 0, timeout=15, what="the WAL truncated")
    finally:
        stop.set()
        looker.join()
    assert _rows(database) == list(range(1, 101))


def test_writes_do_not_wait_for_the_backends_upkeep(
    location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint takes tens of milliseconds on a busy database: writes, queued ones
    included, commit meanwhile (the upkeep has a thread of its own)."""
    inside, release = threading.Event(), threading.Event()
    database = Database(location, [_migration()])
    original = database.backend.maintain

    def slow_upkeep(db: Database) -> None:
        inside.set()
        release.wait(30)  # an upkeep round that lasts until the test ends it
        original(db)

    monkeypatch.setattr(database.backend, "maintain", slow_upkeep)
    monkeypatch.setattr(dbmod, "MAINTAIN_EVERY", 0.01)
    database.open()
    try:
        eventually(inside.is_set, what="an upkeep round under way")
        futures = [database.submit(_insert(n)) for n in range(1, 6)]
        assert [f.result(timeout=10) for f in futures] == [1, 2, 3, 4, 5]
    finally:
        release.set()
        database.close()


@pytest.mark.sqlite_only
def test_inline_jobs_go_to_a_busy_writer_without_blocking_the_loop(database: Database) -> None:
    inside, release = threading.Event(), threading.Event()

    def slow(conn: Connection) -> int:
        inside.set()
        release.wait(10)  # the writer thread stays busy until the test lets it go
        return int(conn.execute("INSERT INTO t (n) VALUES (1)").lastrowid or 0)

    async def scenario() -> tuple[int, int, float]:
        busy = asyncio.ensure_future(database.write(slow))
        await eventually_async(inside.is_set, what="the writer thread is inside slow")
        job = database.schedule(_insert(2), inline=True)
        started = time.monotonic()
        # One loop turn runs the inline write: had it waited for the busy writer, the loop
        # would stall until ``release.wait`` gives up (10 s).
        await asyncio.sleep(0)
        turned = time.monotonic() - started
        release.set()
        assert job.waiter is not None
        return await busy, await job.waiter, turned

    first, second, turned = asyncio.run(scenario())
    assert (first, second) == (1, 2)  # after the writer's job, in the writer's queue
    assert turned < 5
    assert _rows(database) == [1, 2]
