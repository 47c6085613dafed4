"""Free-text queries with more matches than the first pass: exact counts, order and paging.

``search`` answers a query of free-text terms only from the FTS index where it can (counts in
one FTS pass, the page from the newest rowids). These tests shrink its thresholds so a few dozen
messages exceed them, and compare every page with a brute-force answer: substring tests on the
stored search text, sorted by ``created DESC, seq DESC``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from mailsandbox.ingest import Inbound, prepare
from mailsandbox.storage import messages, search
from mailsandbox.storage.db import Database
from mailsandbox.storage.migrations import CORE_MIGRATIONS
from mailsandbox.storage.search import Beside
from mailsandbox.storage.sql import Connection, Row, is_postgresql
from tests.conftest import Databases
from tests.waiting import eventually

COUNT = 40
FIRST_PASS = 6  # far fewer than the matches of "refund" (and of "refund invoice")
BASE = 1_700_000_000.0


def _raw(n: int) -> bytes:
    words = ["Refund" if n % 7 else "other", "invoice" if n % 3 == 0 else "receipt"]
    return (
        f"From: shop{n % 4}@example.com\r\nTo: user{n}@example.org\r\nSubject: Message {n}\r\n"
        f"Content-Type: text/plain\r\n\r\nAbout your {' and '.join(words)}, number {n}.\r\n"
    ).encode()


# created (seconds after BASE) of message n, in arrival (seq) order
CLOCKS: dict[str, Callable[[int], float]] = {
    "steady": lambda n: float(n),
    # the clock stepped back by 10 s after message 30: 31.. arrive "before" 21..30
    "stepped back": lambda n: float(n if n <= 30 else n - 10.5),
    # a whole batch stored within one millisecond: created ties, seq decides
    "ties": lambda n: float(n // 8),
    # the two newest arrived in the opposite order of their clocks
    "swapped": lambda n: float({COUNT - 2: COUNT - 1, COUNT - 1: COUNT - 2}.get(n, n)),
    # the newest message claims to be the oldest
    "one far back": lambda n: float(n if n < COUNT - 1 else -1000),
}


def _build(location: str, clock: Callable[[int], float], read: Callable[[int], bool]) -> Database:
    database = Database(location, CORE_MIGRATIONS)
    database.open()
    batch = []
    for n in range(COUNT):
        new = prepare(Inbound(_raw(n), "shop@example.com", [f"user{n}@example.org"]))
        new.created = BASE + clock(n)
        batch.append(new)
    ids = [new.id for new in batch]
    database.write_sync(lambda conn: [messages.insert_message(conn, new) for new in batch])
    chosen = [ids[n] for n in range(COUNT) if read(n)]
    database.write_sync(lambda conn: messages.set_read(conn, chosen, True))
    return database


@pytest.fixture(params=sorted(CLOCKS))
def db(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    databases: Databases,
) -> Iterator[Database]:
    monkeypatch.setattr(search, "FIRST_PASS", FIRST_PASS)
    monkeypatch.setattr(search, "READ_SIDE", 5)
    database = _build(databases.new(tmp_path), CLOCKS[request.param], lambda n: n % 5 == 1)
    yield database
    database.close()


def expected(conn: Connection, terms: list[str]) -> list[tuple[int, bool]]:
    """(seq, read) of every message whose search text contains every term, newest first."""
    texts = "search_texts" if is_postgresql(conn) else "messages_fts"  # (and those pending)
    rows = conn.execute(
        f"SELECT m.seq, m.read, m.created, f.search_text FROM messages m JOIN {texts} f"
        " ON f.rowid = m.seq"
    ).fetchall()
    hits = [row for row in rows if all(term in row[3].lower() for term in terms)]
    hits.sort(key=lambda row: (row[2], row[0]), reverse=True)
    return [(row[0], bool(row[1])) for row in hits]


# (start, limit): pages ending within FIRST_PASS, past it, past the end; counts only; all
PAGES = [(0, 50), (0, 1), (0, 5), (2, 3), (4, 2), (5, 1), (0, 6), (3, 3), (6, 4), (0, 12),
         (1, 12), (10, 7), (30, 50), (33, 1), (40, 5), (100, 5), (0, 0), (7, 0), (0, -1),
         (12, -1), (3, -5)]  # fmt: skip


@pytest.mark.parametrize("query", ["refund", "REFUND invoice", "efun", "number"])
def test_pages_and_counts_match_brute_force(db: Database, query: str) -> None:
    def check(conn: Connection) -> None:
        hits = expected(conn, query.lower().split())
        assert len(hits) > FIRST_PASS  # counted in the FTS index, not in a first pass
        unread = sum(1 for _, read in hits if not read)
        for start, limit in PAGES:
            page = search.search(conn, query, start=start, limit=limit)
            assert (page.total, page.unread) == (len(hits), unread), (start, limit)
            stop = start + limit if limit >= 0 else None
            assert [m.seq for m in page.messages] == [s for s, _ in hits[start:stop]], (
                start,
                limit,
            )
            assert [m.read for m in page.messages] == [r for _, r in hits[start:stop]]
        assert not conn.in_transaction  # the snapshot is released

    db.read_sync(check)


def test_agrees_with_the_general_path(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same answers with the free-text path switched off (the general SQL)."""
    queries = [
        "refund",
        "refund invoice",
        "invoice",
        "receipt refund",
        "shop1",
        "user12",
        "nowhere",
    ]

    def run(query: str, start: int, limit: int) -> search.SearchPage:
        return db.read_sync(lambda conn: search.search(conn, query, start=start, limit=limit))

    fast = {(q, s, lim): run(q, s, lim) for q in queries for s, lim in PAGES}
    monkeypatch.setattr(search, "_fts_only", lambda query, inbox: None)
    for (q, s, lim), page in fast.items():
        general = run(q, s, lim)
        assert (page.total, page.unread) == (general.total, general.unread), (q, s, lim)
        assert [m.id for m in page.messages] == [m.id for m in general.messages], (q, s, lim)


def test_the_general_first_pass_agrees_with_the_created_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Field queries (the general path): on SQLite its first pass walks back from the newest
    rowid and sorts; the answers equal those of the plain ``ORDER BY created`` pass, whatever
    the clock did. Queries with more matches than the first pass, fewer, and none."""
    queries = ["subject:message", "from:shop1", "subject:message -from:shop2", "is:unread",
               "to:user3", "subject:message is:read", "from:nobody"]  # fmt: skip

    def plain(conn: Connection, where: search.Condition) -> list[Row]:
        sql = f"SELECT seq, read FROM messages WHERE {where.sql} {search.ORDER} LIMIT ?"
        return conn.execute(sql, [*where.args, search.FIRST_PASS + 1]).fetchall()

    def run(query: str, start: int, limit: int) -> search.SearchPage:
        return db.read_sync(lambda conn: search.search(conn, query, start=start, limit=limit))

    walked = {(q, s, lim): run(q, s, lim) for q in queries for s, lim in PAGES}
    assert any(page.total > FIRST_PASS for page in walked.values())
    monkeypatch.setattr(search, "_first_pass", plain)
    for (q, s, lim), page in walked.items():
        ordered = run(q, s, lim)
        assert (page.total, page.unread) == (ordered.total, ordered.unread), (q, s, lim)
        assert [m.id for m in page.messages] == [m.id for m in ordered.messages], (q, s, lim)


# Whether the newest 1 / 3 matches by seq are the newest by created (else every match is sorted)
TRUSTED = {
    "steady": [True, True],
    "ties": [True, True],
    "swapped": [False, True],  # the newest by seq is second newest; the newest three are right
    "stepped back": [False, False],
    "one far back": [False, False],
}


@pytest.mark.sqlite_only  # (FTS5's rowid order: PostgreSQL takes the general road)
def test_the_newest_rowids_are_trusted_only_when_the_clock_allows(
    db: Database, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The page comes from the newest rowids, unless a message's clock forbids it."""
    outcomes: list[bool] = []
    original = search._newest_first

    def spy(conn: Connection, match: str, start: int, end: int) -> list[int] | None:
        result = original(conn, match, start, end)
        outcomes.append(result is not None)
        return result

    monkeypatch.setattr(search, "_newest_first", spy)
    db.read_sync(lambda conn: [search.search(conn, "refund", limit=n) for n in (1, 3)])
    assert outcomes == TRUSTED[request.node.callspec.params["db"]]


# which messages are read: none, all, half, a few (all matching "refund"), one that matches
READ: dict[str, Callable[[int], bool]] = {
    "none": lambda n: False,
    "all": lambda n: True,
    "half": lambda n: n % 2 == 0,
    "three": lambda n: n in (1, 2, 3),
    "one": lambda n: n == 1,
}


@pytest.mark.parametrize("read", sorted(READ))
def test_unread_whichever_read_side_is_smaller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read: str, databases: Databases
) -> None:
    monkeypatch.setattr(search, "FIRST_PASS", FIRST_PASS)
    monkeypatch.setattr(search, "READ_SIDE", 5)
    database = _build(databases.new(tmp_path), CLOCKS["steady"], READ[read])
    try:
        for unread_side in (False, True):
            if unread_side:  # flip every flag: the other side of the read index is the small one
                database.write_sync(
                    lambda conn: conn.execute("UPDATE messages SET read = 1 - read")
                )
            hits = database.read_sync(lambda conn: expected(conn, ["refund"]))
            page = database.read_sync(lambda conn: search.search(conn, "refund", limit=0))
            assert (page.total, page.unread) == (len(hits), sum(1 for _, r in hits if not r))
            assert page.messages == []
    finally:
        database.close()


def test_runs_inside_a_callers_transaction(db: Database) -> None:
    def inside(conn: Connection) -> int:
        conn.execute("BEGIN")
        try:
            page = search.search(conn, "refund", limit=2)
            assert conn.in_transaction  # left open for the caller
        finally:
            conn.execute("COMMIT")
        return page.total

    assert db.read_sync(inside) == len(db.read_sync(lambda conn: expected(conn, ["refund"])))


@pytest.mark.parametrize(
    ("query", "fts"),
    [
        ("refund", '"refund"'),
        ("Refund  invoice", '"refund" AND "invoice"'),
        ('"refund, invoice"', '"refund invoice"'),
        ("refund -invoice", None),  # negated
        ("refund ab", None),  # too short for the index
        ("refund subject:x", None),  # a field
        ("refund is:read", None),
    ],
)
def test_only_free_text_queries_take_the_fts_path(query: str, fts: str | None) -> None:
    assert search._fts_only(query, None) == fts
    assert search._fts_only("refund", "default") is None  # an inbox is a filter too


@pytest.mark.parametrize("margin", [-1, 0, 1])
def test_matches_around_the_first_pass_size(
    db: Database, monkeypatch: pytest.MonkeyPatch, margin: int
) -> None:
    def check(conn: Connection) -> None:
        hits = expected(conn, ["invoice"])
        monkeypatch.setattr(search, "FIRST_PASS", len(hits) + margin)
        for start, limit in [(0, 3), (0, len(hits)), (1, len(hits)), (2, -1), (0, 0)]:
            page = search.search(conn, "invoice", start=start, limit=limit)
            assert page.total == len(hits)
            assert page.unread == sum(1 for _, read in hits if not read)
            stop = start + limit if limit >= 0 else None
            assert [m.seq for m in page.messages] == [seq for seq, _ in hits[start:stop]]

    db.read_sync(check)


# --- a big count split over two reader threads (SQLite) --------------------------------------
SPLIT_QUERIES = ["refund", "REFUND invoice", "number"]  # 34, 11 and 40 of the 40 messages


def _beside_started(database: Database, futures: list[Future[search.Counts | None]]) -> Beside:
    """``read_beside`` returning once a reader thread runs the other half: on tables this
    small the caller would otherwise finish its half first, cancel, and count both itself."""

    def beside(fn: Callable[[Connection], search.Counts | None]) -> Future[search.Counts | None]:
        future = database.read_beside(fn)
        eventually(lambda: future.running() or future.done(), what="a reader thread took it")
        futures.append(future)
        return future

    return beside


def _older_halves_counted_here(monkeypatch: pytest.MonkeyPatch) -> list[list[object]]:
    """The older halves the searching connection counts itself (the other reader's never
    go through ``_execute``)."""
    counted: list[list[object]] = []
    original = search._execute

    def spy(conn: Connection, sql: str, args: list[object]) -> list[Row]:
        if sql == search._OLDER:
            counted.append(args)
        return original(conn, sql, args)

    monkeypatch.setattr(search, "_execute", spy)
    return counted


def _check_split(
    database: Database, beside: Beside, before: Callable[[], object] = lambda: None
) -> None:
    """Every split query's counts and first page equal the brute-force answer of the same
    snapshot (``before`` runs inside it, before the search)."""

    def check(conn: Connection) -> None:
        conn.execute("BEGIN")
        try:
            for query in SPLIT_QUERIES:
                hits = expected(conn, query.lower().split())
                assert len(hits) > FIRST_PASS  # counted in the index
                before()
                page = search.search(conn, query, limit=3, beside=beside)
                unread = sum(1 for _, read in hits if not read)
                assert (page.total, page.unread) == (len(hits), unread), query
                assert [m.seq for m in page.messages] == [seq for seq, _ in hits[:3]], query
        finally:
            conn.execute("COMMIT")

    database.read_sync(check)


@pytest.mark.sqlite_only  # (PostgreSQL takes the general road)
@pytest.mark.parametrize("read", ["none", "all", "three", "one"])  # a read side of ≤ READ_SIDE
def test_a_split_count_agrees_with_brute_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read: str, databases: Databases
) -> None:
    """The older half counted on another reader thread, the newer here: the same counts
    (matches, unread matches: through the read list or the unread one) and page."""
    monkeypatch.setattr(search, "FIRST_PASS", FIRST_PASS)
    monkeypatch.setattr(search, "READ_SIDE", 5)
    database = _build(databases.new(tmp_path), CLOCKS["steady"], READ[read])
    futures: list[Future[search.Counts | None]] = []
    counted_here = _older_halves_counted_here(monkeypatch)
    try:
        for flipped in (False, True):
            if flipped:  # the other side of the read index is the small one now
                database.write_sync(
                    lambda conn: conn.execute("UPDATE messages SET read = 1 - read")
                )
            _check_split(database, _beside_started(database, futures))
    finally:
        database.close()
    assert len(futures) == 2 * len(SPLIT_QUERIES)
    assert all(future.result() is not None for future in futures)  # counted over there
    assert counted_here == []  # and used


@pytest.mark.sqlite_only
def test_a_split_count_ignores_a_half_counted_on_a_newer_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, databases: Databases
) -> None:
    """An old message matching every query is deleted (with its index row) after the search's
    snapshot began: the other reader sees a different index, whose older half lacks it, so
    that half is not used and the counts stay the snapshot's."""
    monkeypatch.setattr(search, "FIRST_PASS", FIRST_PASS)
    database = _build(databases.new(tmp_path), CLOCKS["steady"], READ["one"])
    futures: list[Future[search.Counts | None]] = []
    oldest = "SELECT MIN(rowid) FROM messages_fts WHERE messages_fts MATCH 'refund AND invoice'"
    counted_here = _older_halves_counted_here(monkeypatch)

    def delete_the_oldest_match() -> None:
        database.write_sync(
            lambda conn: messages.delete_by_seqs(conn, [conn.execute(oldest).fetchone()[0]])
        )

    try:
        _check_split(database, _beside_started(database, futures), delete_the_oldest_match)
        left = database.read_sync(lambda conn: conn.execute("SELECT COUNT(*) FROM messages"))
        assert left.fetchone()[0] == COUNT - len(SPLIT_QUERIES)
    finally:
        database.close()
    assert [future.result() for future in futures] == [None] * len(SPLIT_QUERIES)
    assert len(counted_here) == len(SPLIT_QUERIES)


@pytest.mark.sqlite_only
def test_a_split_count_not_taken_by_a_reader_is_counted_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, databases: Databases
) -> None:
    """No reader thread free (the future never starts): the caller cancels it and counts
    both halves itself, without waiting."""
    monkeypatch.setattr(search, "FIRST_PASS", FIRST_PASS)
    database = _build(databases.new(tmp_path), CLOCKS["steady"], READ["three"])
    queued: list[Future[search.Counts | None]] = []
    counted_here = _older_halves_counted_here(monkeypatch)

    def never_started(
        fn: Callable[[Connection], search.Counts | None],
    ) -> Future[search.Counts | None]:
        queued.append(Future())
        return queued[-1]

    try:
        _check_split(database, never_started)
    finally:
        database.close()
    assert len(queued) == len(SPLIT_QUERIES)
    assert all(future.cancelled() for future in queued)
    assert len(counted_here) == len(SPLIT_QUERIES)
