"""Versioned schema migrations of the core.

Append new steps at the end; never edit one that has shipped. Each step is plain SQL, frozen
as it shipped: the SQLModel tables (``sandbox.storage.models``) describe the schema and
``tests/sandbox/storage/test_schema.py`` checks that a migrated database matches them, so
they cannot drift apart, while start-up never imports SQLAlchemy (~0.2 s, see
``bench/startup.py``). The tables of 0001 are the DDL SQLAlchemy generated from the models
when it shipped. Packages outside the core (the event engine, the emulators) bring their own
``Migration`` lists, namespaced by id, and the composition root passes them all to
:class:`~sandbox.storage.db.Database`.
"""

from __future__ import annotations

import sqlite3

from mailsandbox.storage.db import Migration


def _core_0001(conn: sqlite3.Connection) -> None:
    run_statements(
        conn,
        """CREATE TABLE messages (
            seq INTEGER NOT NULL, id VARCHAR NOT NULL, created FLOAT NOT NULL,
            inbox VARCHAR NOT NULL, source VARCHAR NOT NULL, username VARCHAR NOT NULL,
            mail_from VARCHAR NOT NULL, recipients VARCHAR NOT NULL, message_id VARCHAR NOT NULL,
            from_json VARCHAR NOT NULL, to_json VARCHAR NOT NULL, cc_json VARCHAR NOT NULL,
            bcc_json VARCHAR NOT NULL, reply_to_json VARCHAR NOT NULL,
            return_path VARCHAR NOT NULL, subject VARCHAR NOT NULL, date VARCHAR NOT NULL,
            size INTEGER NOT NULL, snippet VARCHAR NOT NULL, attachments INTEGER NOT NULL,
            inlines INTEGER NOT NULL, read BOOLEAN NOT NULL, metadata_json VARCHAR NOT NULL,
            parse_error VARCHAR NOT NULL,
            PRIMARY KEY (seq))""",
        "CREATE INDEX ix_messages_created ON messages (created)",
        "CREATE UNIQUE INDEX ix_messages_id ON messages (id)",
        "CREATE INDEX ix_messages_inbox ON messages (inbox)",
        """CREATE TABLE message_raw (
            seq INTEGER NOT NULL, raw BLOB NOT NULL,
            PRIMARY KEY (seq), FOREIGN KEY(seq) REFERENCES messages (seq))""",
        """CREATE TABLE message_parts (
            seq INTEGER NOT NULL, message_seq INTEGER NOT NULL, part_id VARCHAR NOT NULL,
            filename VARCHAR NOT NULL, content_type VARCHAR NOT NULL,
            content_id VARCHAR NOT NULL, disposition VARCHAR NOT NULL, size INTEGER NOT NULL,
            md5 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
            PRIMARY KEY (seq), FOREIGN KEY(message_seq) REFERENCES messages (seq))""",
        "CREATE INDEX ix_message_parts_message_seq ON message_parts (message_seq)",
        """CREATE TABLE message_tags (
            message_seq INTEGER NOT NULL, tag VARCHAR NOT NULL,
            PRIMARY KEY (message_seq, tag), FOREIGN KEY(message_seq) REFERENCES messages (seq))""",
        "CREATE INDEX ix_message_tags_tag ON message_tags (tag)",
        """CREATE TABLE events (
            seq INTEGER NOT NULL, id VARCHAR NOT NULL, message_id VARCHAR NOT NULL,
            recipient VARCHAR NOT NULL, type VARCHAR NOT NULL, created FLOAT NOT NULL,
            provider VARCHAR NOT NULL, reason VARCHAR NOT NULL, code INTEGER NOT NULL,
            details_json VARCHAR NOT NULL,
            PRIMARY KEY (seq), UNIQUE (id))""",
        "CREATE INDEX ix_events_created ON events (created)",
        "CREATE INDEX ix_events_message_id ON events (message_id)",
        "CREATE INDEX ix_events_recipient ON events (recipient)",
        "CREATE INDEX ix_events_type ON events (type)",
        """CREATE TABLE suppressions (
            seq INTEGER NOT NULL, kind VARCHAR NOT NULL, scope VARCHAR NOT NULL,
            email VARCHAR NOT NULL, reason VARCHAR NOT NULL, code VARCHAR NOT NULL,
            created FLOAT NOT NULL, details_json VARCHAR NOT NULL,
            PRIMARY KEY (seq))""",
        "CREATE INDEX ix_suppressions_email ON suppressions (email)",
        "CREATE INDEX ix_suppressions_kind ON suppressions (kind)",
        """CREATE TABLE webhook_endpoints (
            seq INTEGER NOT NULL, id VARCHAR NOT NULL, provider VARCHAR NOT NULL,
            scope VARCHAR NOT NULL, url VARCHAR NOT NULL, events_json VARCHAR NOT NULL,
            enabled BOOLEAN NOT NULL, signed BOOLEAN NOT NULL, friendly_name VARCHAR NOT NULL,
            created FLOAT NOT NULL, updated FLOAT NOT NULL, details_json VARCHAR NOT NULL,
            PRIMARY KEY (seq), UNIQUE (id))""",
        "CREATE INDEX ix_webhook_endpoints_provider ON webhook_endpoints (provider)",
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
    # (0001 creates them on a new database and this drops them again: shipped migrations
    # stay as they were.)
    run_statements(
        conn,
        "DROP INDEX IF EXISTS ix_messages_inbox",
        "DROP INDEX IF EXISTS ix_events_message_id",
    )


def _core_0400(conn: sqlite3.Connection) -> None:
    run_statements(
        conn,
        """CREATE TABLE inbox_rules (
            seq INTEGER NOT NULL, id VARCHAR NOT NULL, rule VARCHAR NOT NULL,
            created FLOAT NOT NULL,
            PRIMARY KEY (seq), UNIQUE (id))""",
    )


CORE_MIGRATIONS: list[Migration] = [
    Migration("core.0001_initial", _core_0001),
    Migration("core.0300_drop_prefix_indexes", _core_0300),
    Migration("core.0400_inbox_rules", _core_0400),
]
