"""What every store is written against: the subset of the sqlite3 connection API they use.

Stores are plain functions taking a :class:`Connection`: ``execute``/``executemany`` with ``?``
placeholders, cursors with ``fetchone``/``fetchall``/iteration/``rowcount``/``lastrowid``, rows
readable by position and by column name. On SQLite that is the ``sqlite3`` connection itself,
so the SQLite path runs exactly as it always did; on PostgreSQL it is the thin adapter of
:mod:`mailsandbox.storage.postgres`, which translates the placeholders and gives rows by name.

SQL is written once, in the dialect both engines share (``ON CONFLICT``, ``RETURNING``,
``COUNT(*) FILTER``...). Where they differ, a statement is an :class:`Sql`: the SQLite text,
which is what it is as a ``str``, with its PostgreSQL variant beside it; code that builds SQL
picks fragments with :func:`is_postgresql`. See docs/team.md ("Storage design").
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

Parameters = Sequence[Any] | Mapping[str, Any]


class Row(Protocol):
    """A result row: by position (``row[0]``), by column name (``row["seq"]``), ``keys()``."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A database connection as the stores use it (``sqlite3.Connection`` is one)."""

    def execute(self, sql: str, parameters: Parameters = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Any, /) -> Cursor: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


class Sql(str):
    """A statement whose SQLite and PostgreSQL texts differ: as a ``str`` it is the SQLite
    text (sqlite3 takes it as it is); the PostgreSQL adapter runs ``postgresql`` instead."""

    postgresql: str

    def __new__(cls, sqlite: str, *, postgresql: str) -> Sql:
        made = super().__new__(cls, sqlite)
        made.postgresql = postgresql
        return made


def is_postgresql(conn: Connection) -> bool:
    """Whether ``conn`` talks to PostgreSQL (its adapter says so; sqlite3 has no dialect)."""
    return getattr(conn, "dialect", SQLITE) == POSTGRESQL


def pipelined(conn: Connection) -> contextlib.AbstractContextManager[None]:
    """A block whose statements need not each wait for their results (PostgreSQL's pipeline
    mode, see :meth:`~mailsandbox.storage.postgres.PgConnection.pipeline`; a result that is
    read still waits). The writer's transactions run in one: on PostgreSQL every statement
    waited for is a round trip, and most of a message's inserts return nothing anyone reads.
    On SQLite, where a statement is a function call, it changes nothing."""
    pipeline = getattr(conn, "pipeline", None)
    return pipeline() if pipeline is not None else contextlib.nullcontext()


def limit_value(conn: Connection, limit: int) -> int | None:
    """A ``LIMIT ?`` parameter: below 0 means no limit (SQLite's -1 is PostgreSQL's NULL)."""
    return None if limit < 0 and is_postgresql(conn) else limit
