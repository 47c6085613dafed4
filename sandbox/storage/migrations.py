"""Versioned schema migrations of the core, one step per backend.

Append new steps at the end; never edit one that has shipped. Each step is plain SQL, frozen
as it shipped, written once for SQLite and once for PostgreSQL: the SQLModel tables
(``sandbox.storage.models``) describe the schema and ``tests/sandbox/storage/test_schema.py``
checks that a database migrated on either backend matches them, so they cannot drift apart,
while start-up never imports SQLAlchemy (~0.2 s, see ``bench/startup.py``). The SQLite tables
of 0001 are the DDL SQLAlchemy generated from the models when it shipped; PostgreSQL started
at the schema SQLite had reached then (so the steps that only move SQLite's index between
files have nothing to do there).

PostgreSQL conventions (docs/team.md): text columns ``COLLATE "C"`` (byte order and ASCII-only
case folding, as SQLite's ``BINARY`` and ``NOCASE``), flags stay ``INTEGER`` 0/1, ``seq``
columns are identities, raw messages ``BYTEA`` kept out of line and not compressed again by
PostgreSQL (``STORAGE EXTERNAL``: reading a slice reads only that slice; the bytes are zlib's
since 0500, see ``sandbox.storage.rawcodec``), and the search text has a trigram index.
Packages outside the core (the event engine, the emulators) bring their own ``Migration``
lists, namespaced by id, and the composition root passes them all to
:class:`~sandbox.storage.db.Database`.
"""

from __future__ import annotations

from mailsandbox.storage import rawcodec
from mailsandbox.storage.db import NOT_NEEDED, Migration
from mailsandbox.storage.sql import Connection


def _core_0001(conn: Connection) -> None:
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


def run_statements(conn: Connection, *statements: str) -> None:
    """Execute statements one by one (``executescript`` would COMMIT the migration early)."""
    for statement in statements:
        conn.execute(statement)


def _core_0300(conn: Connection) -> None:
    # Each is the prefix of a composite index (inbox, created) / (message_id, created) that
    # serves the same lookups; dropping them saves two B-tree writes per stored message.
    # (0001 creates them on a new database and this drops them again: shipped migrations
    # stay as they were.)
    run_statements(
        conn,
        "DROP INDEX IF EXISTS ix_messages_inbox",
        "DROP INDEX IF EXISTS ix_events_message_id",
    )


def _core_0001_postgresql(conn: Connection) -> None:
    run_statements(
        conn,
        # Substring search (Mailpit's "contains") through a trigram index, as FTS5's trigram
        # tokenizer gives on SQLite. (Trusted extension: a database owner may create it.)
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        """CREATE TABLE messages (
            seq INTEGER GENERATED BY DEFAULT AS IDENTITY, id VARCHAR COLLATE "C" NOT NULL,
            created DOUBLE PRECISION NOT NULL, inbox VARCHAR COLLATE "C" NOT NULL,
            source VARCHAR COLLATE "C" NOT NULL, username VARCHAR COLLATE "C" NOT NULL,
            mail_from VARCHAR COLLATE "C" NOT NULL, recipients VARCHAR COLLATE "C" NOT NULL,
            message_id VARCHAR COLLATE "C" NOT NULL, from_json VARCHAR COLLATE "C" NOT NULL,
            to_json VARCHAR COLLATE "C" NOT NULL, cc_json VARCHAR COLLATE "C" NOT NULL,
            bcc_json VARCHAR COLLATE "C" NOT NULL, reply_to_json VARCHAR COLLATE "C" NOT NULL,
            return_path VARCHAR COLLATE "C" NOT NULL, subject VARCHAR COLLATE "C" NOT NULL,
            date VARCHAR COLLATE "C" NOT NULL, size INTEGER NOT NULL,
            snippet VARCHAR COLLATE "C" NOT NULL, attachments INTEGER NOT NULL,
            inlines INTEGER NOT NULL, read INTEGER NOT NULL,
            metadata_json VARCHAR COLLATE "C" NOT NULL, parse_error VARCHAR COLLATE "C" NOT NULL,
            PRIMARY KEY (seq))""",
        "CREATE INDEX ix_messages_created ON messages (created)",
        "CREATE UNIQUE INDEX ix_messages_id ON messages (id)",
        "CREATE INDEX ix_messages_inbox_created ON messages (inbox, created)",
        "CREATE INDEX ix_messages_read ON messages (read)",
        """CREATE TABLE message_raw (
            seq INTEGER NOT NULL, raw BYTEA NOT NULL,
            PRIMARY KEY (seq), FOREIGN KEY(seq) REFERENCES messages (seq))""",
        "ALTER TABLE message_raw ALTER COLUMN raw SET STORAGE EXTERNAL",
        """CREATE TABLE message_parts (
            seq INTEGER GENERATED BY DEFAULT AS IDENTITY, message_seq INTEGER NOT NULL,
            part_id VARCHAR COLLATE "C" NOT NULL, filename VARCHAR COLLATE "C" NOT NULL,
            content_type VARCHAR COLLATE "C" NOT NULL, content_id VARCHAR COLLATE "C" NOT NULL,
            disposition VARCHAR COLLATE "C" NOT NULL, size INTEGER NOT NULL,
            md5 VARCHAR COLLATE "C" NOT NULL, sha1 VARCHAR COLLATE "C" NOT NULL,
            sha256 VARCHAR COLLATE "C" NOT NULL,
            PRIMARY KEY (seq), FOREIGN KEY(message_seq) REFERENCES messages (seq))""",
        "CREATE INDEX ix_message_parts_message_seq ON message_parts (message_seq)",
        """CREATE TABLE message_tags (
            message_seq INTEGER NOT NULL, tag VARCHAR COLLATE "C" NOT NULL,
            PRIMARY KEY (message_seq, tag), FOREIGN KEY(message_seq) REFERENCES messages (seq))""",
        "CREATE INDEX ix_message_tags_tag ON message_tags (tag)",
        """CREATE TABLE events (
            seq INTEGER GENERATED BY DEFAULT AS IDENTITY, id VARCHAR COLLATE "C" NOT NULL,
            message_id VARCHAR COLLATE "C" NOT NULL, recipient VARCHAR COLLATE "C" NOT NULL,
            type VARCHAR COLLATE "C" NOT NULL, created DOUBLE PRECISION NOT NULL,
            provider VARCHAR COLLATE "C" NOT NULL, reason VARCHAR COLLATE "C" NOT NULL,
            code INTEGER NOT NULL, details_json VARCHAR COLLATE "C" NOT NULL,
            PRIMARY KEY (seq), UNIQUE (id))""",
        "CREATE INDEX ix_events_created ON events (created)",
        "CREATE INDEX ix_events_recipient ON events (recipient)",
        "CREATE INDEX ix_events_type ON events (type)",
        "CREATE INDEX ix_events_message_created ON events (message_id, created)",
        """CREATE TABLE suppressions (
            seq INTEGER GENERATED BY DEFAULT AS IDENTITY, kind VARCHAR COLLATE "C" NOT NULL,
            scope VARCHAR COLLATE "C" NOT NULL, email VARCHAR COLLATE "C" NOT NULL,
            reason VARCHAR COLLATE "C" NOT NULL, code VARCHAR COLLATE "C" NOT NULL,
            created DOUBLE PRECISION NOT NULL, details_json VARCHAR COLLATE "C" NOT NULL,
            PRIMARY KEY (seq))""",
        "CREATE INDEX ix_suppressions_email ON suppressions (email)",
        "CREATE INDEX ix_suppressions_kind ON suppressions (kind)",
        "CREATE UNIQUE INDEX ux_suppressions_kind_scope_email ON suppressions (kind, scope, email)",
        """CREATE TABLE webhook_endpoints (
            seq INTEGER GENERATED BY DEFAULT AS IDENTITY, id VARCHAR COLLATE "C" NOT NULL,
            provider VARCHAR COLLATE "C" NOT NULL, scope VARCHAR COLLATE "C" NOT NULL,
            url VARCHAR COLLATE "C" NOT NULL, events_json VARCHAR COLLATE "C" NOT NULL,
            enabled INTEGER NOT NULL, signed INTEGER NOT NULL,
            friendly_name VARCHAR COLLATE "C" NOT NULL, created DOUBLE PRECISION NOT NULL,
            updated DOUBLE PRECISION NOT NULL, details_json VARCHAR COLLATE "C" NOT NULL,
            PRIMARY KEY (seq), UNIQUE (id))""",
        "CREATE INDEX ix_webhook_endpoints_provider ON webhook_endpoints (provider)",
        # The search text of every message (FTS5's messages_fts on SQLite, same names).
        """CREATE TABLE messages_fts (
            rowid INTEGER NOT NULL, search_text VARCHAR COLLATE "C" NOT NULL,
            PRIMARY KEY (rowid))""",
        "CREATE INDEX ix_messages_fts_trigram ON messages_fts USING gin (search_text gin_trgm_ops)",
        # SQLite's json_extract(X, '$.a.b'), json_type(X, '$.a.b') and json_each(X, '$.a.b')
        # on JSON text, so one SQL serves both engines (object-key paths only; JSON true/false
        # as 1/0, any other value as its text, as SQLite returns them for comparisons).
        """CREATE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE jsonb_typeof(v) WHEN 'boolean' THEN (v::text = 'true')::int::text
                                        ELSE v #>> '{}' END
            FROM (SELECT doc::jsonb #> string_to_array(substr(path, 3), '.')) AS found(v) $$""",
        """CREATE FUNCTION json_type(doc TEXT, path TEXT) RETURNS TEXT
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE jsonb_typeof(v) WHEN 'string' THEN 'text' WHEN 'boolean' THEN v::text
                WHEN 'number' THEN CASE WHEN v::text ~ '^-?[0-9]+$' THEN 'integer' ELSE 'real' END
                ELSE jsonb_typeof(v) END
            FROM (SELECT doc::jsonb #> string_to_array(substr(path, 3), '.')) AS found(v) $$""",
        """CREATE FUNCTION json_each(doc TEXT, path TEXT) RETURNS TABLE (key TEXT, value TEXT)
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT e.key, CASE jsonb_typeof(e.v) WHEN 'boolean' THEN (e.v::text = 'true')::int::text
                                                 ELSE e.v #>> '{}' END
            FROM (SELECT doc::jsonb #> string_to_array(substr(path, 3), '.')) AS found(v),
            LATERAL (
                SELECT (a.n - 1)::text, a.v FROM jsonb_array_elements(
                    CASE jsonb_typeof(found.v) WHEN 'array' THEN found.v ELSE '[]' END
                ) WITH ORDINALITY AS a(v, n)
                UNION ALL
                SELECT o.key, o.value FROM jsonb_each(
                    CASE jsonb_typeof(found.v) WHEN 'object' THEN found.v ELSE '{}' END
                ) AS o
            ) AS e(key, v) $$""",
    )


def _core_0400(conn: Connection) -> None:
    run_statements(
        conn,
        """CREATE TABLE inbox_rules (
            seq INTEGER NOT NULL, id VARCHAR NOT NULL, rule VARCHAR NOT NULL,
            created FLOAT NOT NULL,
            PRIMARY KEY (seq), UNIQUE (id))""",
    )


def _core_0400_postgresql(conn: Connection) -> None:
    run_statements(
        conn,
        """CREATE TABLE inbox_rules (
            seq INTEGER GENERATED BY DEFAULT AS IDENTITY, id VARCHAR COLLATE "C" NOT NULL,
            rule VARCHAR COLLATE "C" NOT NULL, created DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (seq), UNIQUE (id))""",
    )


PACK_ROWS = 256  # at most this many rows compressed per round of migration 0500...
PACK_BYTES = 16 * 1024 * 1024  # ...and this many raw bytes (a round holds them in memory)


def pack_stored_raw(conn: Connection) -> int:
    """Compress every ``message_raw`` row still stored plain, a round of a few rows at a time
    (memory stays bounded whatever the database holds); returns how many were compressed.
    Rows that would not shrink stay plain. (:func:`~mailsandbox.storage.rawcodec.pack` may
    learn better ways to compress: whatever it wrote reads back, its codec says how.)"""
    sizes = conn.execute(
        "SELECT seq, LENGTH(raw) FROM message_raw WHERE codec = ? ORDER BY seq",
        (rawcodec.PLAIN,),
    ).fetchall()
    rounds: list[list[int]] = []
    room = 0
    for seq, size in sizes:
        if not rounds or len(rounds[-1]) >= PACK_ROWS or (size > room and rounds[-1]):
            rounds.append([])
            room = PACK_BYTES
        rounds[-1].append(seq)
        room -= size
    packed = 0
    for seqs in rounds:
        marks = ",".join("?" * len(seqs))
        rows = conn.execute(f"SELECT seq, raw FROM message_raw WHERE seq IN ({marks})", seqs)
        for seq, raw in rows.fetchall():
            stored, codec = rawcodec.pack(bytes(raw))
            if codec != rawcodec.PLAIN:
                conn.execute(
                    "UPDATE message_raw SET raw = ?, codec = ? WHERE seq = ?", (stored, codec, seq)
                )
                packed += 1
    return packed


def _core_0500(conn: Connection) -> None:
    # Raw messages compressed (issue 19): rows say how they are stored; the existing ones
    # are compressed here, in the migration's transaction, and the file shrinks once it has
    # committed (``compact``: VACUUM, see bench/README.md "Disk (issue 19)" for its cost).
    run_statements(conn, "ALTER TABLE message_raw ADD COLUMN codec INTEGER DEFAULT 0 NOT NULL")
    pack_stored_raw(conn)


def _core_0500_postgresql(conn: Connection) -> None:
    # The same; PostgreSQL's autovacuum makes the old rows' space reusable (``VACUUM FULL
    # message_raw`` gives it back to the file system, see docs/team.md). The column keeps
    # STORAGE EXTERNAL: its bytes are compressed already, and slices of them stay cheap.
    run_statements(conn, "ALTER TABLE message_raw ADD COLUMN codec INTEGER DEFAULT 0 NOT NULL")
    pack_stored_raw(conn)


def _core_0600_postgresql(conn: Connection) -> None:
    # Search texts written with their messages wait here, without an index, until a replica
    # moves them into messages_fts (mailsandbox.pg_indexer: pg_trgm's extraction was most of
    # a message's transaction). Searches read both tables through the view.
    run_statements(
        conn,
        """CREATE TABLE messages_fts_pending (
            rowid INTEGER NOT NULL, search_text VARCHAR COLLATE "C" NOT NULL,
            PRIMARY KEY (rowid))""",
        """CREATE VIEW search_texts AS SELECT rowid, search_text FROM messages_fts
            UNION ALL SELECT rowid, search_text FROM messages_fts_pending""",
    )


CORE_MIGRATIONS: list[Migration] = [
    Migration("core.0001_initial", _core_0001, postgresql=_core_0001_postgresql),
    Migration("core.0300_drop_prefix_indexes", _core_0300, postgresql=NOT_NEEDED),
    Migration("core.0400_inbox_rules", _core_0400, postgresql=_core_0400_postgresql),
    Migration("core.0500_compress_raw", _core_0500, postgresql=_core_0500_postgresql, compact=True),
    Migration("core.0600_search_pending", NOT_NEEDED, postgresql=_core_0600_postgresql),
]
