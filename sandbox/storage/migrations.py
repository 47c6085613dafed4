"""Versioned schema migrations of the core.

Append new steps at the end; never edit one that has shipped. Tables are created from their
SQLModel definitions (so the models stay the source of truth); what SQLModel cannot express
(FTS5, partial or composite unique indexes) is plain SQL. Packages outside the core (the
emulators) bring their own ``Migration`` lists, namespaced by id, and the composition root
passes them all to :class:`~sandbox.storage.db.Database`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from mailsandbox.storage import models
from mailsandbox.storage.db import Migration


def create_tables(conn: sqlite3.Connection, tables: Iterable[Any]) -> None:
    """Create tables (and their indexes) from SQLModel table classes."""
    dialect = sqlite_dialect.dialect()
    for model in tables:
        table = model.__table__
        conn.execute(str(CreateTable(table).compile(dialect=dialect)))
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            conn.execute(str(CreateIndex(index).compile(dialect=dialect)))


def _core_0001(conn: sqlite3.Connection) -> None:
    create_tables(conn, models.CORE_TABLES)
    run_statements(
        conn,
        "CREATE INDEX ix_messages_inbox_created ON messages (inbox, created)",
        "CREATE INDEX ix_messages_read ON messages (read)",
        "CREATE UNIQUE INDEX ux_suppressions_kind_scope_email ON suppressions (kind, scope, email)",
        "CREATE INDEX ix_events_message_created ON events (message_id, created)",
        # Free-text search: trigram tokens give substring matching (Mailpit's "contains")
        # with an index, for any term of 3 characters or more.
        "CREATE VIRTUAL TABLE messages_fts USING fts5(search_text, tokenize='trigram')",
    )


def run_statements(conn: sqlite3.Connection, *statements: str) -> None:
    """Execute statements one by one (``executescript`` would COMMIT the migration early)."""
    for statement in statements:
        conn.execute(statement)


def _core_0300(conn: sqlite3.Connection) -> None:
    # Each is the prefix of a composite index (inbox, created) / (message_id, created) that
    # serves the same lookups; dropping them saves two B-tree writes per stored message.
    # (The models still declare them, so 0001 creates them on a new database and this drops
    # them again: shipped migrations stay as they were.)
    run_statements(
        conn,
        "DROP INDEX IF EXISTS ix_messages_inbox",
        "DROP INDEX IF EXISTS ix_events_message_id",
    )


def _core_0400(conn: sqlite3.Connection) -> None:
    from mailsandbox.storage import inbox_rules  # (it imports this module's create_tables)

    inbox_rules.migrate(conn)


CORE_MIGRATIONS: list[Migration] = [
    Migration("core.0001_initial", _core_0001),
    Migration("core.0300_drop_prefix_indexes", _core_0300),
    Migration("core.0400_inbox_rules", _core_0400),
]
