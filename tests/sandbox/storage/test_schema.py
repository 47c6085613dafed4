"""The migrations (plain SQL, one step per backend) build exactly the schema the SQLModel
tables describe.

Start-up never imports SQLAlchemy, so the migrations are frozen SQL; this test keeps the
models honest: a database migrated the way the sandbox does it (every add-on's migrations)
has, for every model table, the same columns (name, type, NOT NULL, default, primary key),
the same foreign keys, and every index the model declares, as the database SQLAlchemy creates
from the models on the same engine. A model changed without a migration (or the reverse)
fails here, on SQLite and on PostgreSQL.

On PostgreSQL the migrations follow the conventions of ``sandbox/storage/migrations.py``,
which the comparison allows for: flags are ``integer`` where the models say ``boolean``,
``seq`` columns are identities where SQLAlchemy makes ``serial`` ones, and every text column
is ``COLLATE "C"`` (checked here too).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from sqlmodel import SQLModel, create_engine

import mailsandbox.emulators.mailgun.tables
import mailsandbox.emulators.postmark.tables
import mailsandbox.emulators.resend.tables
import mailsandbox.emulators.sendgrid.tables
import mailsandbox.emulators.ses.tables
import mailsandbox.events.models
import mailsandbox.storage.models  # noqa: F401  (the modules register their tables)
from mailsandbox.app import create_app
from tests.conftest import make_settings
from tests.postgres import Cluster

TABLE_COUNT = 31
NOT_MODELS = {"schema_migrations", "messages_fts"}  # bookkeeping; the search index
# PostgreSQL's search texts waiting for the index, and the view searches read them through
PG_SEARCH = {"messages_fts_pending", "search_texts"}


def describe(conn: sqlite3.Connection, table: str) -> dict[str, Any]:
    columns = [tuple(row)[1:] for row in conn.execute(f"PRAGMA table_info({table})")]
    foreign = sorted(tuple(row)[2:5] for row in conn.execute(f"PRAGMA foreign_key_list({table})"))
    indexes = {}
    for row in conn.execute(f"PRAGMA index_list({table})"):
        name, unique, origin = row[1], row[2], row[3]
        if origin == "c":  # created by CREATE INDEX (not an implicit PK/UNIQUE index)
            cols = [r[2] for r in conn.execute(f"PRAGMA index_info({name})")]
            indexes[name] = (bool(unique), cols)
    uniques = sorted(
        [r[2] for r in conn.execute(f"PRAGMA index_info({row[1]})")]
        for row in conn.execute(f"PRAGMA index_list({table})")
        if row[3] == "u"
    )
    return {"columns": columns, "foreign": foreign, "indexes": indexes, "uniques": uniques}


def compare(tables: list[str], have: Any, want: Any) -> None:
    assert len(tables) == TABLE_COUNT
    for table in tables:
        migrated, expected = have(table), want(table)
        assert migrated["columns"] == expected["columns"], table
        assert migrated["foreign"] == expected["foreign"], table
        assert migrated["uniques"] == expected["uniques"], table
        for name, index in expected["indexes"].items():  # migrations may add composite ones
            assert migrated["indexes"].get(name) == index, (table, name)


def test_migrated_sqlite_database_matches_the_models(tmp_path: Path) -> None:
    sandbox = create_app(make_settings(tmp_path)).state.sandbox
    sandbox.db.open()
    migrated = sqlite3.connect(tmp_path / "sandbox.db")
    sandbox.db.close()

    reference = tmp_path / "models.db"
    engine = create_engine(f"sqlite:///{reference}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    expected = sqlite3.connect(reference)

    tables = sorted(SQLModel.metadata.tables)
    compare(tables, lambda t: describe(migrated, t), lambda t: describe(expected, t))
    migrated_tables = {
        row[0]
        for row in migrated.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'messages_fts%'"
        )
    }
    assert migrated_tables - set(tables) == {"schema_migrations"}, "a table without a model"


# --- PostgreSQL ---------------------------------------------------------------------------
PG_COLUMNS = """
SELECT column_name, data_type, is_nullable = 'NO',
       is_identity = 'YES' OR coalesce(column_default, '') LIKE 'nextval(%%', collation_name
FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s
ORDER BY ordinal_position
"""
PG_CONSTRAINTS = """
SELECT c.contype, c.conname, array(
         SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       c.confrelid::regclass::text, array(
         SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint c WHERE c.conrelid = %s::regclass
"""
PG_INDEXES = """
SELECT i.relname, x.indisunique, array(
         SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = %s::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
"""


def describe_pg(conn: psycopg.Connection[Any], table: str) -> dict[str, Any]:
    """Columns (name, type, NOT NULL, generated), primary key, foreign keys, UNIQUE
    constraints and the other indexes of ``table`` (flags as the migrations store them)."""
    columns = []
    for name, kind, not_null, generated, _collation in conn.execute(PG_COLUMNS, (table,)):
        columns.append((name, "integer" if kind == "boolean" else kind, not_null, generated))
    constraints = conn.execute(PG_CONSTRAINTS, (table,)).fetchall()
    primary = [cols for kind, _, cols, _, _ in constraints if kind == "p"]
    foreign = sorted(
        (ref, tuple(cols), tuple(to)) for k, _, cols, ref, to in constraints if k == "f"
    )
    uniques = sorted(cols for kind, _, cols, _, _ in constraints if kind == "u")
    indexes = {name: (unique, cols) for name, unique, cols in conn.execute(PG_INDEXES, (table,))}
    return {
        "columns": [*columns, ("primary key", primary)],
        "foreign": foreign,
        "indexes": indexes,
        "uniques": uniques,
    }


def test_migrated_postgresql_database_matches_the_models(
    tmp_path: Path, postgres_cluster: Cluster
) -> None:
    migrated_url = postgres_cluster.database(migrated=False)
    models_url = postgres_cluster.database(migrated=False)
    try:
        sandbox = create_app(make_settings(tmp_path, db=migrated_url)).state.sandbox
        sandbox.db.open()
        sandbox.db.close()
        engine = create_engine(models_url.replace("postgresql://", "postgresql+psycopg://"))
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        with psycopg.connect(migrated_url) as have, psycopg.connect(models_url) as want:
            tables = sorted(SQLModel.metadata.tables)
            compare(tables, lambda t: describe_pg(have, t), lambda t: describe_pg(want, t))
            listed = have.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
            assert {row[0] for row in listed} - set(tables) == NOT_MODELS | PG_SEARCH
            collations = have.execute(
                "SELECT DISTINCT collation_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND data_type = 'character varying'"
            )
            assert [row[0] for row in collations] == ["C"]  # byte order, ASCII-only case folding
    finally:
        postgres_cluster.drop(migrated_url)
        postgres_cluster.drop(models_url)
