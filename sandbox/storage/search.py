"""Mailpit's search language compiled to SQL (spec §5), plus our ``inbox:NAME`` filter and the
ESP filters ``category:NAME`` (a SendGrid category or Mailgun tag) and ``var:KEY=VALUE`` (a
SendGrid custom arg or Mailgun user variable; ``var:KEY`` for any value).

A query is split on spaces outside double quotes; every token is a condition and all are
ANDed. ``-`` or ``!`` negates a token. Field filters (``to:``, ``subject:``, ``tag:``...),
``is:``/``has:`` flags, ``before:``/``after:`` dates, ``larger:``/``smaller:`` sizes, and free
text (a substring of the message's search text, through the FTS5 trigram index; terms under
three characters fall back to a LIKE scan). Everything becomes bound parameters: nothing a user
types reaches the SQL text.

Running a query (:func:`search`) returns one page, newest first (``created DESC, seq DESC``),
with the exact number of matches and of unread matches, all read from one snapshot. Most
queries are one SQL pass for up to ``FIRST_PASS`` matches, plus a count beyond that. A query
made only of free-text terms takes its own road (:func:`_search_free_text`): for a word found
in most messages, evaluating the FTS5 phrase is the cost, and the general SQL evaluates it
twice and joins each of the many matches to ``messages``. Here it is evaluated in full once, to
count the matches in the index itself (the unread ones through the smaller side of the read
index), and the page comes from the newest matching rowids, which FTS5 yields without
evaluating the rest, checked against the ``created`` order (:func:`_newest_first`). Given a
``beside`` (another reader thread's connection, ``Database.read_beside``), that count is split
in two halves of the rowids counted at once on two cores, when both connections see the same
index (:func:`_split_count`).

On PostgreSQL the same language compiles to the same conditions but for two pieces: free text
is ``LIKE '%term%'`` on the search texts (``messages_fts``, whose trigram GIN index answers
it: the substring semantics of FTS5's trigram tokenizer, for terms of any length, and the few
texts still waiting for that index, see :mod:`mailsandbox.pg_indexer`), and field filters
use ``ILIKE`` (SQLite's ``LIKE`` ignores ASCII case; on a ``"C"``-collated column, ``ILIKE``
folds exactly ASCII, too). Every query takes the general road there.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailsandbox.esp import CATEGORY_PATHS, VARIABLE_PATHS
from mailsandbox.logins import Visible
from mailsandbox.mime import clean
from mailsandbox.storage.messages import (
    SUMMARY_COLUMNS,
    MessageSummary,
    summaries_from_rows,
    visible_sql,
)
from mailsandbox.storage.sql import (
    POSTGRESQL,
    SQLITE,
    Connection,
    Row,
    is_postgresql,
    limit_value,
)

MAX_QUERY_CHARS = 4096
MAX_TERMS = 50
MAX_SIZE = 2**62  # SQLite integers are 64-bit
FIRST_PASS = 5000  # matches collected in the first pass (see ``search``)
READ_SIDE = 5000  # read-index entries looked at to pick the smaller side (see ``_fts_counts``)
ORDER = "ORDER BY created DESC, seq DESC"


Counts = tuple[int, int]  # matches, and those among the listed (read or unread) seqs
# Runs a read on another reader thread's connection (``Database.read_beside``).
Beside = Callable[[Callable[[Connection], Counts | None]], Future[Counts | None]]


class SearchError(ValueError):
    """The query cannot be run (empty, too long, too many terms)."""


@dataclass
class SearchPage:
    messages: list[MessageSummary]
    total: int  # messages matching the query
    unread: int  # unread messages matching the query


@dataclass
class Condition:
    sql: str
    args: list[object]


@dataclass
class Plan:
    """How to compile: the zone for dates, and the choices that depend on the data."""

    tz: tzinfo | None = None
    probe: Callable[[str], bool] | None = None  # is this FTS phrase rare enough to look up?
    single_row: bool = False  # checking one known message: test FTS per row
    dialect: str = SQLITE
    # PostgreSQL: search texts may be waiting to be indexed (see _POSTGRESQL_TEXTS)
    pending: bool = True

    @property
    def postgresql(self) -> bool:
        return self.dialect == POSTGRESQL


IGNORED = Condition("TRUE", [])  # a token that has no effect, even negated (an unparseable date)
NOTHING = Condition("FALSE", [])
EVERYTHING = Condition("TRUE", [])


_ADDRESS_FIELDS = {
    "to": "to_json",
    "from": "from_json",
    "cc": "cc_json",
    "bcc": "bcc_json",
    "reply-to": "reply_to_json",
}
_FLAGS = {
    # "+read": keep SQLite off the two-valued read index, whose matches it would have to sort;
    # walking the created index finds the newest matches without sorting.
    "is:read": "+read = 1",
    "is:unread": "+read = 0",
    "is:tagged": "EXISTS (SELECT 1 FROM message_tags t WHERE t.message_seq = messages.seq)",
    # inbound mail: matched an inbound rule, or was sent in (mailsandbox.inbound.routing)
    "is:inbound": "json_type(metadata_json, '$.inbound') IS NOT NULL",
    "has:attachment": "attachments > 0",
    "has:attachments": "attachments > 0",
    "has:inline": "inlines > 0",
    "has:inlines": "inlines > 0",
}
_FTS_MATCH = "seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"
_FTS_ROW = (
    "EXISTS (SELECT 1 FROM messages_fts f WHERE f.rowid = messages.seq AND f.messages_fts MATCH ?)"
)
_TEXT_LIKE = "seq IN (SELECT rowid FROM {texts} WHERE search_text LIKE ? ESCAPE '\\')"
_TEXT_LIKE_ROW = (
    "EXISTS (SELECT 1 FROM {texts} f WHERE f.rowid = messages.seq"
    " AND f.search_text LIKE ? ESCAPE '\\')"
)
_SQLITE_TEXTS = "messages_fts"
# PostgreSQL: a view of messages_fts and of the texts still waiting to be indexed there
# (mailsandbox.pg_indexer), which a search must find too. PostgreSQL plans it less well (it
# cannot tell the view's rowids are unique: counting a word found in most of 100,000 messages
# took 690 ms instead of 370), so when no text waits, messages_fts alone is searched.
_POSTGRESQL_TEXTS = "search_texts"
_PENDING = "SELECT EXISTS (SELECT 1 FROM messages_fts_pending)"
SELECTIVE = 2000  # an FTS term with at most this many hits is worth looking up first
_JSON_KEYS = '{"name": "", "address": ""}'
_SIZE_RE = re.compile(r"^(\d+)(\.\d+)?\s?([a-z]{1,2})?$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2}
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
)


# --- tokenising --------------------------------------------------------------------------
def tokenize(query: str) -> list[str]:
    """Split on spaces outside double quotes, then drop the quote characters."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = False
    for char in query:
        if char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            tokens.append("".join(current))
            current = []
            continue
        current.append(char)
    tokens.append("".join(current))
    return [t.replace('"', "").strip() for t in tokens if t.replace('"', "").strip()]


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(
    column: str, value: str, plan: Plan | None = None, *, in_search_text: bool = False
) -> Condition:
    """``column`` contains ``value`` (ASCII case-insensitive).

    For columns that are also in the FTS search text (subject, addresses), a message can only
    match if its search text contains ``clean(value)``: that trigram lookup narrows the rows
    first (an exact superset; skipped where the JSON key names themselves could match), when
    the plan's probe says the term is rare enough for that to pay.
    """
    operator = "ILIKE" if plan is not None and plan.postgresql else "LIKE"
    like = Condition(f"{column} {operator} ? ESCAPE '\\'", [_like(value)])
    term = clean(value)
    if not in_search_text or len(term) < 3 or term in _JSON_KEYS:
        return like
    if plan is None or plan.probe is None or not plan.probe(_phrase(term)):
        return like
    return Condition(f"({like.sql} AND {_FTS_MATCH})", [*like.args, _phrase(term)])


def resolve_tz(name: str | None) -> tzinfo | None:
    """An IANA zone, or None (server local time) when absent or unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def parse_date(value: str, tz: tzinfo | None = None) -> float | None:
    """A loosely written date/time as epoch seconds; None when it is not a date."""
    text = " ".join(value.replace(",", " ").split())
    if re.fullmatch(r"\d{9,13}", text):
        number = int(text)
        return number / 1000 if len(text) > 11 else float(number)
    moment: datetime | None = None
    iso = text[:-1] + "+00:00" if text.upper().endswith("Z") else text
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                moment = datetime.strptime(text.title(), fmt)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz) if tz is not None else moment.astimezone()
    return moment.timestamp()


def parse_size(value: str) -> int | None:
    match = _SIZE_RE.match(value.lower())
    if not match or (match.group(3) or "") not in _SIZE_UNITS:
        return None
    size = int(float(match.group(1) + (match.group(2) or "")) * _SIZE_UNITS[match.group(3) or ""])
    return min(size, MAX_SIZE) if size > 0 else None


# --- compiling ---------------------------------------------------------------------------
def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _free_text(value: str, plan: Plan) -> Condition | None:
    term = clean(value)
    if not term:
        return None
    if plan.postgresql:  # (the search text and the term are both lower-cased already)
        like = _TEXT_LIKE_ROW if plan.single_row else _TEXT_LIKE
        texts = _POSTGRESQL_TEXTS if plan.pending else _SQLITE_TEXTS
        return Condition(like.format(texts=texts), [_like(term)])
    if len(term) >= 3:
        return Condition(_FTS_ROW if plan.single_row else _FTS_MATCH, [_phrase(term)])
    return Condition(_TEXT_LIKE.format(texts=_SQLITE_TEXTS), [_like(term)])


def _in_metadata(paths: tuple[str, ...], where: str, args: list[object]) -> Condition:
    """Some entry of the metadata JSON arrays/objects at ``paths`` satisfies ``where`` (over
    ``json_each``'s ``key`` and ``value``)."""
    each = f"EXISTS (SELECT 1 FROM json_each(messages.metadata_json, ?) WHERE {where})"
    return Condition(
        "(" + " OR ".join([each] * len(paths)) + ")", [a for p in paths for a in (p, *args)]
    )


def _esp_field(key: str, value: str) -> Condition:
    """``category:NAME`` (case-insensitive) and ``var:KEY=VALUE`` / ``var:KEY`` (exact)."""
    if key == "category":
        return _in_metadata(CATEGORY_PATHS, "lower(value) = ?", [value.lower()])
    name, equals, wanted = value.partition("=")
    if not equals:
        return _in_metadata(VARIABLE_PATHS, "key = ?", [name])
    return _in_metadata(VARIABLE_PATHS, "key = ? AND CAST(value AS TEXT) = ?", [name, wanted])


def _field(key: str, value: str, plan: Plan) -> Condition | None:
    """The condition of a ``key:value`` token, or None when it is not a known filter."""
    if key in _ADDRESS_FIELDS:
        return _contains(_ADDRESS_FIELDS[key], clean(value), plan, in_search_text=True)
    if key == "addressed":
        parts = [
            _contains(col, clean(value), plan, in_search_text=True)
            for col in _ADDRESS_FIELDS.values()
        ]
        return Condition(
            "(" + " OR ".join(p.sql for p in parts) + ")", [a for p in parts for a in p.args]
        )
    if key == "subject":
        return _contains("subject", value, plan, in_search_text=True)
    if key == "message-id":
        return _contains("message_id", clean(value), plan)
    if key == "tag":
        return Condition(
            "seq IN (SELECT message_seq FROM message_tags WHERE lower(tag) = ?)", [clean(value)]
        )
    if key == "inbox":
        return Condition("inbox = ?", [value])
    if key in ("category", "var"):
        return _esp_field(key, value)
    if key in ("before", "after"):
        moment = parse_date(clean(value).upper(), plan.tz)
        if moment is None:
            return IGNORED  # an unparseable date is ignored, as Mailpit does
        return Condition("created <= ?" if key == "before" else "created >= ?", [moment])
    if key in ("larger", "smaller"):
        size = parse_size(value)
        if size is None:
            return None
        return Condition("size > ?" if key == "larger" else "size < ?", [size])
    return None


def compile_token(token: str, plan: Plan | None = None) -> Condition | None:
    """One token → SQL condition (None = matches everything)."""
    plan = plan or Plan()
    negate = len(token) > 1 and token[0] in "-!"
    if negate:
        token = token[1:]
    lowered = token.lower()
    condition: Condition | None
    if lowered in _FLAGS:
        condition = Condition(_FLAGS[lowered], [])
    else:
        key, sep, value = token.partition(":")
        condition = _field(key.lower(), value, plan) if sep else None
        if condition is None:
            condition = _free_text(token, plan)
    if condition is IGNORED:
        return None
    if condition is None:
        return NOTHING if negate else None
    return Condition(f"NOT ({condition.sql})", condition.args) if negate else condition


_FIELD_KEYS = frozenset(
    {*_ADDRESS_FIELDS, "addressed", "subject", "message-id", "tag", "inbox"}
    | {"before", "after", "larger", "smaller"}
)


def _selects(token: str) -> bool:
    """Whether a token narrows the search at all (see :func:`compile_query`'s ``strict``).

    Not a flag, a field filter with a value, nor a free-text term with a searchable character:
    ``subject:``, ``to:``, ``((((``, ``before:someday`` (a date Mailpit ignores) select nothing
    and, alone, would match every message.
    """
    bare = token[1:] if len(token) > 1 and token[0] in "-!" else token
    if bare.lower() in _FLAGS:
        return True
    key, sep, value = bare.partition(":")
    if sep and key.lower() in _FIELD_KEYS:
        used = value.strip() if key.lower() in ("subject", "inbox") else clean(value)
        if not used:
            return False
        condition = _field(key.lower(), value, Plan())
        if condition is IGNORED:
            return False
        if condition is not None:
            return True
    return bool(clean(bare))


def compile_query(
    query: str,
    tz: str | None = None,
    inbox: str | None = None,
    *,
    probe: Callable[[str], bool] | None = None,
    single_row: bool = False,
    strict: bool = False,
    dialect: str = SQLITE,
    visible: Visible = None,
    pending: bool = True,
) -> Condition:
    """The WHERE clause of a query; raises SearchError when it cannot be run.

    ``strict`` (bulk changes: delete or mark by search) also refuses a query with a term that
    selects nothing (see :func:`_selects`), or with no term at all: where a search shows every
    message, a deletion by that search must not delete every message. ``visible`` keeps the
    messages of those inboxes only (a scoped login's). ``pending`` (PostgreSQL): whether any
    search text may still wait to be indexed (False only if read in the snapshot the query
    runs on).
    """
    query = query.strip()
    if not query and inbox is None and visible is None:
        raise SearchError("Error: no search query")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"Error: search query longer than {MAX_QUERY_CHARS} characters")
    if "\x00" in query:
        raise SearchError("Error: search query contains a NUL character")
    tokens = tokenize(query)
    if len(tokens) > MAX_TERMS:
        raise SearchError(f"Error: more than {MAX_TERMS} search terms")
    if strict:
        if not tokens:
            raise SearchError(f"Error: the search {query!r} has no search term")
        unusable = [t for t in tokens if not _selects(t)]
        if unusable:
            raise SearchError(f"Error: the search term {unusable[0]!r} selects nothing")
    zone = resolve_tz(tz)
    plan = Plan(zone, probe, single_row, dialect, pending)
    conditions = [c for c in (compile_token(t, plan) for t in tokens) if c is not None]
    if inbox is not None:
        conditions.append(Condition("inbox = ?", [inbox]))
    if visible is not None:
        sql, names = visible_sql(visible)
        conditions.append(Condition(sql, list(names)))
    if not conditions:
        return EVERYTHING
    return Condition(
        " AND ".join(f"({c.sql})" for c in conditions), [a for c in conditions for a in c.args]
    )


# --- running -----------------------------------------------------------------------------
def _dialect(conn: Connection) -> str:
    return POSTGRESQL if is_postgresql(conn) else SQLITE


def _execute(conn: Connection, sql: str, args: list[object]) -> list[Row]:
    try:
        return conn.execute(sql, args).fetchall()
    except (sqlite3.Error, OverflowError) as exc:  # e.g. an FTS5 term it refuses
        raise SearchError(f"Error: {exc}") from exc


def _is_rare(conn: Connection, phrase: str) -> bool:
    """Whether an FTS phrase has at most ``SELECTIVE`` hits (FTS5 stops reading at the limit)."""
    sql = "SELECT COUNT(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? LIMIT ?)"
    try:
        count = conn.execute(sql, (phrase, SELECTIVE + 1)).fetchone()[0]
    except sqlite3.Error:
        return False
    return bool(count <= SELECTIVE)


def _fetch(conn: Connection, seqs: list[int]) -> list[MessageSummary]:
    if not seqs:
        return []
    marks = ",".join("?" * len(seqs))
    rows = conn.execute(f"SELECT {SUMMARY_COLUMNS} FROM messages WHERE seq IN ({marks})", seqs)
    by_seq = {row["seq"]: row for row in rows}
    return summaries_from_rows(conn, [by_seq[seq] for seq in seqs if seq in by_seq])


@contextmanager
def _snapshot(conn: Connection) -> Iterator[None]:
    """Run several reads on one snapshot, so counts and page agree even while mail arrives."""
    if conn.in_transaction:  # the caller's transaction already is one
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:  # (an error may have ended it already)
            conn.execute("COMMIT")


def _page(start: int, limit: int) -> slice:
    """The rows of a page among all matches in order (``limit`` < 0: all from ``start``)."""
    return slice(start, start + limit if limit >= 0 else None)


def _first_pass(conn: Connection, where: Condition) -> list[Row]:
    """Up to ``FIRST_PASS`` + 1 matches ``(seq, read, ...)``, newest first.

    SQLite reads back from the newest rowid, a walk in file order that stops at the limit,
    then sorts what it found by ``created``. Walking the ``created`` index instead fetches each
    row out of file order: for a query with few matches, which reads every row, that cost 55
    against 35 ms at 100,000 messages. When all the matches were found, the sort gives their
    order. Otherwise they are the newest by seq, which is the newest by ``created`` unless the
    clock stepped back (checked as in :func:`_newest_first`); if it did, the ``created`` index
    decides, as on PostgreSQL.
    """
    ordered = f"SELECT seq, read FROM messages WHERE {where.sql} {ORDER} LIMIT {FIRST_PASS + 1}"
    if is_postgresql(conn):
        return _execute(conn, ordered, where.args)
    rows = _execute(
        conn,
        f"SELECT seq, read, created FROM messages WHERE {where.sql}"
        f" ORDER BY seq DESC LIMIT {FIRST_PASS + 1}",
        where.args,
    )
    rows.sort(key=lambda row: (row[2], row[0]), reverse=True)
    if len(rows) <= FIRST_PASS:
        return rows
    later = conn.execute(
        "SELECT 1 FROM messages WHERE created > ? AND +seq < ? LIMIT 1",
        (rows[-1][2], min(row[0] for row in rows)),
    ).fetchone()
    return rows if later is None else _execute(conn, ordered, where.args)


def _search_general(conn: Connection, where: Condition, start: int, limit: int) -> SearchPage:
    """Any query, through its compiled ``where``.

    One pass collects up to ``FIRST_PASS`` matches (newest first); when there are no more, it
    gives the counts and the page at once. Only bigger result sets pay for a separate count.
    """
    source = f"messages WHERE {where.sql}"
    first = _first_pass(conn, where)
    end = start + limit if limit >= 0 else None
    if len(first) <= FIRST_PASS:
        total, unread = len(first), sum(1 for row in first if not row[1])
        seqs = [row[0] for row in first[start:end]] if limit != 0 else []
        return SearchPage(_fetch(conn, seqs), total, unread)
    total, unread = _execute(
        conn,
        f"SELECT COUNT(*), COALESCE(SUM(1 - read), 0) FROM messages WHERE {where.sql}",
        where.args,
    )[0]
    if limit == 0:
        seqs = []
    elif end is not None and end <= FIRST_PASS:
        seqs = [row[0] for row in first[start:end]]
    else:
        rows = _execute(
            conn,
            f"SELECT seq FROM {source} {ORDER} LIMIT ? OFFSET ?",
            [*where.args, limit_value(conn, limit), start],
        )
        seqs = [row[0] for row in rows]
    return SearchPage(_fetch(conn, seqs), int(total), int(unread))


# --- free text only ----------------------------------------------------------------------
# A query made only of free-text terms (``refund``, ``refund invoice``) is answered by the FTS
# index alone as far as possible. For a common word the general path costs two full
# evaluations of the phrase (first pass, count) plus a ``messages`` lookup and a sort for each
# of tens of thousands of matches; here the phrase is evaluated in full once, to count.
def _fts_only(query: str, inbox: str | None) -> str | None:
    """The FTS5 expression of a query made only of free-text terms, else None.

    Each token must compile to the plain FTS lookup (not negated, at least three characters);
    their phrases ANDed in one MATCH select the same messages as the ANDed lookups.
    """
    if inbox is not None:
        return None
    phrases: list[str] = []
    for token in tokenize(query):
        condition = compile_token(token)
        if condition is None:
            continue  # a token that matches everything
        if condition.sql != _FTS_MATCH:
            return None
        phrases.append(str(condition.args[0]))
    return " AND ".join(phrases) or None


def _count_flag(conn: Connection, read: int, limit: int) -> int:
    """How many messages have this read flag, counting no further than ``limit`` + 1."""
    sql = "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE read = ? LIMIT ?)"
    return int(conn.execute(sql, (read, limit + 1)).fetchone()[0])


def _fts_counts(conn: Connection, match: str, beside: Beside | None = None) -> tuple[int, int]:
    """(matches, unread matches) of an FTS expression, evaluating it once.

    Every FTS row is a stored message (rows are written for existing messages and deleted with
    them, in the same transaction), so the matches are counted in the index alone, without a
    ``messages`` lookup each. The unread ones are the matching rowids found in the list of
    ``read = 0`` seqs, or the matches less those in the ``read = 1`` list: the read list
    unless it is long (over ``READ_SIDE``) and the unread one is not. SQLite builds that list
    (from the read index) into an in-memory index once and probes it per match; an empty list
    needs no probing at all. (``read`` is 0 or 1.) With ``beside``, and a list of at most
    ``READ_SIDE`` seqs, the count is split in two (:func:`_split_count`).
    """
    side, size = 1, _count_flag(conn, 1, READ_SIDE)
    if size > READ_SIDE:
        unread_size = _count_flag(conn, 0, READ_SIDE)
        if unread_size <= READ_SIDE:
            side, size = 0, unread_size
    split = None
    if beside is not None and size <= READ_SIDE:
        split = _split_count(conn, match, side if size else None, beside)
    if split is not None:
        total, on_side = split
    elif size == 0:
        sql = "SELECT COUNT(*), 0 FROM messages_fts WHERE messages_fts MATCH ?"
        total, on_side = _execute(conn, sql, [match])[0]
    else:
        sql = (
            "SELECT COUNT(*), COALESCE(SUM(rowid IN (SELECT seq FROM messages WHERE read = ?)), 0)"
            " FROM messages_fts WHERE messages_fts MATCH ?"
        )
        total, on_side = _execute(conn, sql, [side, match])[0]
    return int(total), int(total - on_side if side else on_side)


def _index_structure(conn: Connection) -> bytes | None:
    """FTS5's structure record (rowid 10 of its data table): the list of the index's segments,
    with a counter of every segment written. Any change to the index (rows added or deleted,
    segments merged) rewrites it, and segments are never changed in place: the same record,
    the same index."""
    row = conn.execute("SELECT block FROM messages_fts_data WHERE id = 10").fetchone()
    return None if row is None else bytes(row[0])


_COUNT_LISTED = (
    "SELECT COUNT(*), COALESCE(SUM(rowid IN (SELECT value FROM json_each(?))), 0)"
    " FROM messages_fts WHERE messages_fts MATCH ? AND rowid {} ?"
)
_OLDER, _NEWER = _COUNT_LISTED.format("<="), _COUNT_LISTED.format(">")


def _split_count(conn: Connection, match: str, side: int | None, beside: Beside) -> Counts | None:
    """(matches, matches among the seqs whose ``read`` is ``side``) of an FTS expression,
    counted in two halves at once: the older rowids on another reader thread's connection,
    the newer ones here. Each evaluation runs in SQLite's C code without the GIL, so on two
    cores a word found in most messages is counted in about half the time (bench/README.md,
    "Fifth pass of issue 19"). None if there is no message at all, or no reader to ask.

    Exact, or not used. ``side``'s seqs are listed here (at most ``READ_SIDE``), so both halves
    probe the same list; and the other connection counts only if it sees the same index as
    this snapshot (the same structure record), else this connection counts both halves. So
    does it when no reader thread took the other half by the time this one is counted: the
    future is cancelled (a queued read is never waited for, which keeps a busy pool from
    deadlocking).
    """
    middle = conn.execute("SELECT (MIN(seq) + MAX(seq)) / 2 FROM messages").fetchone()[0]
    if middle is None:
        return None
    listed = "[]"
    if side is not None:
        sql = "SELECT json_group_array(seq) FROM messages WHERE read = ?"
        listed = conn.execute(sql, (side,)).fetchone()[0]
    structure = _index_structure(conn)
    args = [listed, match, middle]

    def older(other: Connection) -> Counts | None:
        with _snapshot(other):
            if _index_structure(other) != structure:
                return None  # the index changed between the two snapshots
            total, listed_matches = other.execute(_OLDER, args).fetchone()
            return int(total), int(listed_matches)

    try:
        future = beside(older)
    except RuntimeError:  # the readers are shutting down
        return None
    newer_total, newer_listed = _execute(conn, _NEWER, args)[0]
    counted = None
    if not future.cancel():
        with contextlib.suppress(Exception):  # (counted again here, with the error if real)
            counted = future.result()
    if counted is None:
        older_total, older_listed = _execute(conn, _OLDER, args)[0]
        counted = int(older_total), int(older_listed)
    return int(newer_total) + counted[0], int(newer_listed) + counted[1]


def _newest_first(conn: Connection, match: str, start: int, end: int) -> list[int] | None:
    """Matches ``[start:end]`` in ``created DESC, seq DESC`` order, or None (see below).

    Call only when there are at least ``end`` matches. FTS5 yields the ``end`` matches with the
    highest seqs in descending rowid order, reading back from the newest message until it has
    them: cheap for a common word (at worst, matches only among old messages, about one more
    evaluation of the phrase). Messages are stored in ``created`` order almost always, but the
    clock can step back, so that is checked, not assumed: let ``lowest`` be the last of these
    in ``created`` order. Any other match has a lower seq than all of them, so it can only rank
    before ``lowest`` if its ``created`` is later than ``lowest``'s. When no message at all has
    such a seq and ``created`` (a short walk down the ``created`` index), these are the first
    ``end`` matches, and sorting them gives the page; otherwise the caller sorts every match
    (None).
    """
    newest = [
        row[0]
        for row in _execute(
            conn,
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
            [match, end],
        )
    ]
    marks = ",".join("?" * len(newest))
    rows = conn.execute(f"SELECT seq, created FROM messages WHERE seq IN ({marks})", newest)
    keys = sorted(((created, seq) for seq, created in rows), reverse=True)
    if len(keys) != end:
        return None  # not as many stored messages as expected: let the general query decide
    # "+seq": stay on the created index (the rowid range would walk most of the table).
    later = conn.execute(
        "SELECT 1 FROM messages WHERE created > ? AND +seq < ? LIMIT 1", (keys[-1][0], newest[-1])
    ).fetchone()
    if later is not None:
        return None
    return [seq for _, seq in keys[start:end]]


def _search_free_text(
    conn: Connection,
    where: Condition,
    match: str,
    start: int,
    limit: int,
    beside: Beside | None = None,
) -> SearchPage:
    """A query of free-text terms only: ``where`` compiled, ``match`` its FTS expression.

    FTS5 hands over up to ``FIRST_PASS`` + 1 matching rowids (in its own order, stopping
    there), as one JSON array. When those are all the matches, they are joined to ``messages``
    and sorted, which gives the counts and the page at once, as the general first pass does
    (with a single evaluation of the phrase). When there are more, nothing is joined: the
    counts come from :func:`_fts_counts` and the page from :func:`_newest_first`; only a page
    ending past ``FIRST_PASS``, or a clock that stepped back, has every match sorted.
    """
    found, rowids = _execute(
        conn,
        "SELECT COUNT(*), json_group_array(rowid) FROM"
        " (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? LIMIT ?)",
        [match, FIRST_PASS + 1],
    )[0]
    if found <= FIRST_PASS:
        sql = (
            f"SELECT seq, read FROM messages WHERE seq IN (SELECT value FROM json_each(?)) {ORDER}"
        )
        first = conn.execute(sql, [rowids]).fetchall()
        unread = sum(1 for row in first if not row[1])
        seqs = [row[0] for row in first[_page(start, limit)]] if limit != 0 else []
        return SearchPage(_fetch(conn, seqs), len(first), unread)
    total, unread = _fts_counts(conn, match, beside)
    page: list[int] | None = [] if limit == 0 else None
    if page is None and limit > 0 and start + limit <= FIRST_PASS:
        page = _newest_first(conn, match, start, start + limit)
    if page is None:
        rows = _execute(
            conn,
            f"SELECT seq FROM messages WHERE {where.sql} {ORDER} LIMIT ? OFFSET ?",
            [*where.args, limit, start],
        )
        page = [row[0] for row in rows]
    return SearchPage(_fetch(conn, page), total, unread)


# --- entry points ------------------------------------------------------------------------
def search(
    conn: Connection,
    query: str,
    *,
    start: int = 0,
    limit: int = 50,
    tz: str | None = None,
    inbox: str | None = None,
    visible: Visible = None,
    beside: Beside | None = None,
) -> SearchPage:
    """Messages matching ``query``, newest first; ``limit=0`` counts without listing.

    On SQLite, queries of free-text terms only take :func:`_search_free_text`; all others,
    and every query on PostgreSQL, :func:`_search_general`. Every statement (compiling's
    included) reads the same snapshot. ``beside`` lets a big count use a second reader
    thread (``Database.read_beside``).
    """
    start = max(start, 0)
    with _snapshot(conn):
        if is_postgresql(conn):
            pending = bool(conn.execute(_PENDING).fetchone()[0])
            where = compile_query(
                query, tz, inbox, dialect=POSTGRESQL, visible=visible, pending=pending
            )
            return _search_general(conn, where, start, limit)
        where = compile_query(
            query, tz, inbox, probe=lambda phrase: _is_rare(conn, phrase), visible=visible
        )
        match = _fts_only(query, inbox) if visible is None else None  # (the index knows no inbox)
        if match is not None:
            return _search_free_text(conn, where, match, start, limit, beside)
        return _search_general(conn, where, start, limit)


def matching_ids(
    conn: Connection,
    query: str,
    tz: str | None = None,
    inbox: str | None = None,
    visible: Visible = None,
    *,
    strict: bool = True,
) -> list[str]:
    """Ids of every message matching ``query`` (of the ``visible`` inboxes), newest first, for
    a bulk change.

    The query is compiled ``strict`` (unless a reader, e.g. an export, says otherwise): one
    that would match every message only because a term selects nothing (``"``, ``subject:``)
    raises :class:`SearchError` instead.
    """
    where = compile_query(query, tz, inbox, strict=strict, visible=visible, dialect=_dialect(conn))
    sql = f"SELECT id FROM messages WHERE {where.sql} {ORDER}"
    return [row[0] for row in _execute(conn, sql, where.args)]


def matches(conn: Connection, query: str, message_id: str, tz: str | None = None) -> bool:
    """Whether the message ``message_id`` matches ``query`` (an empty query matches all)."""
    where = (
        compile_query(query, tz, single_row=True, dialect=_dialect(conn))
        if query.strip()
        else EVERYTHING
    )
    sql = f"SELECT 1 FROM messages WHERE id = ? AND ({where.sql})"
    return bool(_execute(conn, sql, [message_id, *where.args]))
