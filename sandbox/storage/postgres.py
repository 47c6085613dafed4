"""The PostgreSQL backend (team mode): psycopg 3 behind the stores' sqlite3-style API.

Imported only when ``--db`` is a ``postgresql://`` URL, so SQLite mode never loads psycopg
(``bench/startup.py``). :class:`PgConnection` speaks the subset of the sqlite3 API the stores
use (see :mod:`mailsandbox.storage.sql`): ``?`` placeholders become psycopg's ``%s``; an
:class:`~mailsandbox.storage.sql.Sql` statement runs its PostgreSQL text; rows are tuples that
also answer by column name; ``lastrowid`` is the session's ``lastval()``, asked only when
read; Python ``bool`` parameters are stored as integers and ``numeric`` results come back as
``int``/``float``, as SQLite does. Connections are in autocommit mode, so transactions are the
explicit ``BEGIN``/``COMMIT`` the database writer sends, as on SQLite; readers default to
read-only REPEATABLE READ transactions, so the few reads that span statements (a search's
page and counts) see one snapshot.

Several replicas share the database: migrations run under an advisory lock (one replica
migrates, the others wait, then find nothing left to do). Everything else replicas need to
agree on (claims, leadership, the change feed) is in
:mod:`mailsandbox.storage.pg_coordination` and :mod:`mailsandbox.team`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import psycopg
from psycopg import adapt, pq
from psycopg.adapt import AdaptersMap
from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper

from mailsandbox import startup
from mailsandbox.storage.sql import POSTGRESQL, Connection, Parameters, Sql

log = logging.getLogger(__name__)

# Advisory lock keys (two-int form): (LOCK_SPACE, n). Namespaced so that other users of
# the same database are unlikely to collide with them.
LOCK_SPACE = 0x6D73  # "ms"
MIGRATION_LOCK = 1
CONNECT_TIMEOUT = 10  # seconds
APPLICATION_NAME = "mailsandbox"


# --- SQL text -----------------------------------------------------------------------------
_translated: dict[str, str] = {}
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%")


def translate(sql: str) -> str:
    """The PostgreSQL text of a statement: its ``Sql.postgresql`` variant if it has one, with
    ``?`` placeholders (outside quotes) as ``%s`` and every ``%`` as ``%%`` (psycopg reads
    ``%`` anywhere as the start of a placeholder). Cached: the stores' SQL is a few hundred
    constant strings, plus the ``IN (?, ?...)`` lists of various lengths."""
    text = sql.postgresql if isinstance(sql, Sql) else str(sql)
    found = _translated.get(text)
    if found is None:

        def replace(match: re.Match[str]) -> str:
            token = match.group(0)
            if token == "?":
                return "%s"
            if token == "%":
                return "%%"
            return token.replace("%", "%%")

        found = _QUOTED.sub(replace, text)
        if len(_translated) < 10_000:
            _translated[text] = found
    return found


# --- rows ---------------------------------------------------------------------------------
class PgRow(tuple[Any, ...]):
    """A row: a tuple that also answers ``row["column"]`` and ``keys()``, as ``sqlite3.Row``."""

    _index: ClassVar[dict[str, int]] = {}
    _names: ClassVar[tuple[str, ...]] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            index = self._index.get(key)
            if index is None:
                index = self._index[key.lower()]  # (sqlite3.Row ignores case too)
            return tuple.__getitem__(self, index)
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


_row_classes: dict[tuple[str, ...], type[PgRow]] = {}


def _row_class(names: tuple[str, ...]) -> type[PgRow]:
    cls = _row_classes.get(names)
    if cls is None:
        index: dict[str, int] = {}
        for position, name in enumerate(names):
            index.setdefault(name, position)  # a repeated name: the first, as sqlite3
            index.setdefault(name.lower(), position)
        cls = type("PgRow", (PgRow,), {"_index": index, "_names": names, "__slots__": ()})
        _row_classes[names] = cls
    return cls


def _row_factory(cursor: psycopg.Cursor[Any]) -> Any:
    description = cursor.description
    if description is None:
        return tuple
    return _row_class(tuple(column.name for column in description))


# --- types --------------------------------------------------------------------------------
class _IntegerBool(Int8Dumper):
    """``True``/``False`` parameters as 1/0: flags are integer columns, as in SQLite."""


class _IntegerBoolBinary(Int8BinaryDumper):
    pass


class _NumberLoader(adapt.Loader):
    """``numeric`` results (``SUM`` of integers, ...) as ``int`` or ``float``, as SQLite."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        try:
            return int(text)
        except ValueError:
            return float(text)


ADAPTERS = AdaptersMap(psycopg.adapters)
ADAPTERS.register_dumper(bool, _IntegerBool)
ADAPTERS.register_dumper(bool, _IntegerBoolBinary)
ADAPTERS.register_loader("numeric", _NumberLoader)


def _without_nul(parameters: Any) -> Any:
    """PostgreSQL text cannot hold NUL: in a parameter (a hostile header, an id in a URL) it
    becomes U+FFFD. Stored text then says where it was; a lookup finds nothing, as it would
    on SQLite, where no stored id has one. (Raw messages are bytes, kept exactly.)"""
    if isinstance(parameters, dict):
        return parameters
    return [
        p.replace("\x00", "\ufffd") if isinstance(p, str) and "\x00" in p else p for p in parameters
    ]


# --- connections --------------------------------------------------------------------------
class PgCursor:
    """A statement's results, as ``sqlite3.Cursor`` gives them. In pipeline mode (see
    :meth:`PgConnection.pipeline`) the statement may still be on its way: asking for any
    result first waits for it (and for everything sent before it: one round trip)."""

    def __init__(self, conn: PgConnection, cursor: psycopg.Cursor[Any]) -> None:
        self._conn = conn
        self._cursor = cursor

    def _ready(self) -> psycopg.Cursor[Any]:
        """The cursor, with its results arrived."""
        pipeline = self._conn.pipelined
        if pipeline is not None and self._cursor.pgresult is None:
            pipeline.sync()
        return self._cursor

    @property
    def rowcount(self) -> int:
        return self._ready().rowcount

    @property
    def lastrowid(self) -> int | None:
        """The new row's id: what an ``INSERT ... RETURNING seq`` returned (the PostgreSQL
        variants of the frequent inserts say so, sparing a round trip), else the last value
        this session drew from a sequence (an identity column)."""
        cursor = self._ready()
        if cursor.description is not None:
            returned = cursor.fetchone()
            return int(returned[0]) if returned else None
        row = self._conn.raw.execute("SELECT lastval()").fetchone()
        return int(row[0]) if row else None

    def fetchone(self) -> Any:
        cursor = self._ready()
        return cursor.fetchone() if cursor.description is not None else None

    def fetchall(self) -> list[Any]:
        cursor = self._ready()
        return cursor.fetchall() if cursor.description is not None else []

    def __iter__(self) -> Iterator[Any]:
        cursor = self._ready()
        if cursor.description is None:
            return iter(())
        return iter(cursor)


class PgConnection:
    """A psycopg connection that speaks the stores' sqlite3 subset (see the module doc)."""

    dialect = POSTGRESQL

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self.pipelined: psycopg.Pipeline | None = None  # inside :meth:`pipeline`

    @contextlib.contextmanager
    def pipeline(self) -> Iterator[None]:
        """Pipeline mode for this block (the writer's transactions, see
        :func:`~mailsandbox.storage.sql.pipelined`): statements are sent without waiting for
        their results, so those nobody reads (most inserts of a message) cost no round trip
        of their own; reading any result waits for everything sent so far. An error surfaces
        at the next wait, at the latest when the block ends, which waits for the rest:
        leaving the block without an exception means every statement in it succeeded."""
        if self.pipelined is not None:
            yield
            return
        with self.raw.pipeline() as pipeline:
            self.pipelined = pipeline
            try:
                yield
            finally:
                self.pipelined = None

    def execute(self, sql: str, parameters: Parameters = (), /) -> PgCursor:
        cursor = self.raw.cursor()
        cursor.execute(translate(sql), _without_nul(parameters))
        return PgCursor(self, cursor)

    def executemany(self, sql: str, parameters: Any, /) -> PgCursor:
        cursor = self.raw.cursor()
        rows = [_without_nul(row) for row in parameters]
        if rows:
            cursor.executemany(translate(sql), rows)
        return PgCursor(self, cursor)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    @property
    def broken(self) -> bool:
        return self.raw.closed or self.raw.broken

    def close(self) -> None:
        self.raw.close()


def connect(url: str, *, readonly: bool = False) -> PgConnection:
    raw = psycopg.connect(
        url,
        autocommit=True,
        context=ADAPTERS,
        row_factory=_row_factory,
        connect_timeout=CONNECT_TIMEOUT,
        application_name=APPLICATION_NAME,
    )
    if readonly:
        raw.execute("SET default_transaction_read_only = on")
        raw.execute("SET default_transaction_isolation = 'repeatable read'")
    return PgConnection(raw)


def describe_error(exc: Exception) -> str:
    """A driver error as one line (libpq's messages run over several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def redacted(url: str) -> str:
    """``url`` without its password (for logs and banners)."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgresBackend:
    """A PostgreSQL database, shared by every replica (see :class:`~.db.Backend`)."""

    name = POSTGRESQL
    # Every statement is a round trip to the server: never on the event loop.
    inline_writes = False
    shared = True
    # Group commit: a transaction costs two waits for the server and the hand-overs between
    # the event loop and the writer thread whatever its size. Over 8 SMTP connections,
    # letting jobs gather for 2 ms made transactions of ~3.6 jobs twice as big, the
    # replica's CPU per message 27 % smaller and one replica 11 % faster (bench/README.md,
    # "Team mode, fourth pass"; 4 ms was slower than none). Only when jobs come together.
    group_commit_delay = 0.002

    def __init__(self, url: str) -> None:
        self.url = url

    def __str__(self) -> str:
        return redacted(self.url)

    def check(self) -> None:
        """Before opening: the server answers and lets us in (else one line, exit 2)."""
        try:
            self.connect().close()
        except psycopg.Error as exc:
            raise startup.StartupError(
                f"cannot connect to the PostgreSQL database {redacted(self.url)}:"
                f" {describe_error(exc)}"
            ) from None

    def connect(self, *, readonly: bool = False) -> Connection:
        return connect(self.url, readonly=readonly)

    def setup(self, conn: Connection) -> None:
        return None

    @contextlib.contextmanager
    def migrating(self, conn: Connection) -> Iterator[None]:
        """Hold the migration lock: replicas starting together migrate one after the other
        (the later ones then find every step applied)."""
        conn.execute("SELECT pg_advisory_lock(?, ?)", (LOCK_SPACE, MIGRATION_LOCK))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(?, ?)", (LOCK_SPACE, MIGRATION_LOCK))

    def writer_started(self, conn: Connection) -> None:
        return None

    def writer_stopped(self) -> None:
        return None

    def maintain(self, db: object) -> None:
        return None  # the server checkpoints and vacuums on its own

    def broken(self, conn: Connection) -> bool:
        return isinstance(conn, PgConnection) and conn.broken

    def size(self, conn: Connection) -> int:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0])

    def close(self) -> None:
        return None


__all__: Sequence[str] = ["PgConnection", "PostgresBackend", "connect", "translate"]
