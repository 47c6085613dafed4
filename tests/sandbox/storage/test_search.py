"""The search language against a real database: every filter, positive and negated."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mailsandbox.ingest import Inbound, prepare
from mailsandbox.storage import messages, search
from mailsandbox.storage.db import Database
from mailsandbox.storage.migrations import CORE_MIGRATIONS
from tests.conftest import Databases

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

ALPHA = (
    b"From: Alice Smith <alice@example.com>\r\n"
    b"To: Bob Jones <bob@example.org>\r\n"
    b"Cc: carol@example.net\r\n"
    b"Reply-To: replies@example.com\r\n"
    b"Subject: Weekly report 42\r\n"
    b"Message-ID: <alpha-1@example.com>\r\n"
    b"Date: Mon, 06 Jan 2025 10:00:00 +0000\r\n"
    b"X-Tags: Finance, urgent\r\n"
    b"Content-Type: text/plain\r\n\r\n"
    b"The quarterly numbers are attached somewhere. ok\r\n"
)
BETA = (
    b"From: dave@example.com\r\n"
    b"To: erin@example.com\r\n"
    b"Subject: Holiday photos\r\n"
    b"Message-ID: <beta-2@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/html\r\n\r\n<p>Look at <b>these</b> pictures</p>\r\n"
    b'--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="beach.png"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\n" + __import__("base64").b64encode(PNG) + b"\r\n"
    b"--b\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\nContent-Disposition: inline\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + __import__("base64").b64encode(PNG) + b"\r\n"
    b"--b--\r\n" + b"padding " * 300 + b"\r\n"
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, module_databases: Databases) -> Iterator[Database]:
    database = Database(module_databases.new(tmp_path_factory.mktemp("search")), CORE_MIGRATIONS)
    database.open()
    alpha = prepare(Inbound(ALPHA, "alice@example.com", ["bob@example.org", "hidden@example.io"]))
    alpha.created = datetime(2025, 1, 6, 10, tzinfo=UTC).timestamp()
    beta = prepare(Inbound(BETA, "dave@example.com", ["erin@example.com"], inbox="team"))
    beta.created = datetime(2025, 3, 1, 12, tzinfo=UTC).timestamp()
    database.write_sync(lambda conn: messages.insert_message(conn, alpha))
    database.write_sync(lambda conn: messages.insert_message(conn, beta))
    database.write_sync(lambda conn: messages.set_read(conn, [beta.id], True))
    yield database
    database.close()


def subjects(db: Database, query: str, tz: str | None = None) -> set[str]:
    page = db.read_sync(lambda conn: search.search(conn, query, tz=tz))
    assert page.total == len(page.messages)
    return {m.subject for m in page.messages}


A, B = "Weekly report 42", "Holiday photos"

CASES = [
    ("to:bob", {A}),
    ("to:jones", {A}),
    ("from:alice", {A}),
    ("from:ALICE@EXAMPLE.COM", {A}),
    ("cc:carol", {A}),
    ("bcc:hidden@example.io", {A}),
    ("reply-to:replies", {A}),
    ("addressed:erin", {B}),
    ("addressed:carol", {A}),
    ("subject:weekly", {A}),
    ('subject:"report 42"', {A}),
    ('"subject:Report 42"', {A}),
    ("message-id:beta-2", {B}),
    ("tag:finance", {A}),
    ("tag:fin", set()),
    ("is:read", {B}),
    ("is:unread", {A}),
    ("is:tagged", {A}),
    ("has:attachment", {B}),
    ("has:attachments", {B}),
    ("has:inline", {B}),
    ("has:inlines", {B}),
    ("after:2025-02-01", {B}),
    ("before:2025-02-01", {A}),
    ('after:"1 Feb 2025"', {B}),
    ("before:not-a-date", {A, B}),
    ("larger:2kb", {B}),
    ("smaller:2k", {A}),
    ("larger:1", {A, B}),
    ("inbox:team", {B}),
    ("inbox:default", {A}),
    ("quarterly", {A}),
    ("pictures", {B}),
    ("beach.png", {B}),
    ("42", {A}),
    ("UARTERL", {A}),
    ("weekly quarterly", {A}),
    ("weekly pictures", set()),
    ("nothing-matches-this", set()),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_filter(db: Database, query: str, expected: set[str]) -> None:
    assert subjects(db, query) == expected


SINGLE_TOKEN_CASES = [c for c in CASES if len(search.tokenize(c[0])) == 1]


@pytest.mark.parametrize(("query", "expected"), SINGLE_TOKEN_CASES)
@pytest.mark.parametrize("prefix", ["-", "!"])
def test_negated_filter(db: Database, query: str, expected: set[str], prefix: str) -> None:
    if query.startswith("before:not"):
        assert subjects(db, prefix + query) == {A, B}  # an unparseable date has no effect
    else:
        assert subjects(db, prefix + query) == {A, B} - expected


def test_only_the_prefixed_token_is_negated(db: Database) -> None:
    assert subjects(db, "-weekly pictures") == {B}
    assert subjects(db, "weekly -pictures") == {A}


def test_timezone_moves_the_day_boundary(db: Database) -> None:
    # alpha arrived 2025-01-06 10:00 UTC, i.e. 2025-01-07 ~00:00 in Pacific/Kiritimati (+14)
    assert subjects(db, "after:2025-01-06", tz="UTC") >= {A}
    assert A not in subjects(db, "after:2025-01-07", tz="UTC")
    assert A in subjects(db, "before:2025-01-07", tz="UTC")
    assert A not in subjects(db, "before:2025-01-06", tz="Pacific/Kiritimati")


def test_paging_counts_and_unread(db: Database) -> None:
    page = db.read_sync(lambda conn: search.search(conn, "larger:1", start=1, limit=1))
    assert (page.total, page.unread, len(page.messages)) == (2, 1, 1)
    assert page.messages[0].subject == A  # newest first: beta, then alpha
    none = db.read_sync(lambda conn: search.search(conn, "larger:1", limit=0))
    assert none.messages == [] and none.total == 2


def test_matches(db: Database) -> None:
    beta_id = db.read_sync(lambda conn: search.search(conn, "has:attachment")).messages[0].id
    assert db.read_sync(lambda conn: search.matches(conn, "subject:holiday", beta_id))
    assert not db.read_sync(lambda conn: search.matches(conn, "subject:weekly", beta_id))
    assert db.read_sync(lambda conn: search.matches(conn, "", beta_id))
    assert db.read_sync(lambda conn: search.matches(conn, "pictures -quarterly", beta_id))
    assert not db.read_sync(lambda conn: search.matches(conn, "quarterly", beta_id))
    assert not db.read_sync(lambda conn: search.matches(conn, "-pictures", beta_id))


@pytest.mark.sqlite_only  # (FTS5 lookups: PostgreSQL's planner picks the trigram index)
def test_rare_terms_use_the_fts_lookup_and_agree(db: Database) -> None:
    """``subject:`` and address filters look rare terms up in FTS first; results are the same."""
    plain = search.compile_query("subject:holiday from:dave")
    looked_up = search.compile_query("subject:holiday from:dave", probe=lambda phrase: True)
    assert "messages_fts" not in plain.sql and "messages_fts" in looked_up.sql
    assert subjects(db, "subject:holiday from:dave") == {B}
    assert subjects(db, "-subject:holiday") == {A}


@pytest.mark.parametrize("query", ["", "   ", "x" * 5000, " ".join(["a"] * 51), "bad\x00byte"])
def test_bad_queries_raise_search_error(db: Database, query: str) -> None:
    with pytest.raises(search.SearchError):
        db.read_sync(lambda conn: search.search(conn, query))


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "-",
        "!",
        ":",
        "to:",
        "a'b",
        "%",
        "_",
        "\\",
        'x" OR 1=1 --',
        "*",
        "larger:",
        "NEAR(a b)",
        "subject:%_",
        "after:99999999999999",
        "ü",
        "🙂🙂🙂",
        "is:",
        "has:nothing",
    ],
)
def test_nasty_queries_never_fail(db: Database, query: str) -> None:
    db.read_sync(lambda conn: search.search(conn, query))


def test_tokenize_quotes_and_spaces() -> None:
    assert search.tokenize('subject:"Weekly report"  -"to:a b" x') == [
        "subject:Weekly report",
        "-to:a b",
        "x",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("2k", 2048),
        ("2KB", 2048),
        ("1.5m", 1572864),
        ("10 kb", 10240),
        ("2gb", None),
        ("0", None),
        ("x", None),
    ],
)
def test_parse_size(text: str, expected: int | None) -> None:
    assert search.parse_size(text) == expected


def test_parse_date_forms() -> None:
    utc = search.resolve_tz("UTC")
    jan31 = datetime(2025, 1, 31, tzinfo=UTC).timestamp()
    for text in ("2025-01-31", "2025/01/31", "31 JAN 2025", "JAN 31 2025", "2025-01-31T00:00:00Z"):
        assert search.parse_date(text, utc) == jan31, text
    assert search.parse_date("1738281600", utc) == jan31
    assert search.parse_date("tomorrow", utc) is None
    assert search.resolve_tz("Not/AZone") is None
    assert time.time() > 0
