"""The migrations (plain SQL) build exactly the schema the SQLModel tables describe.

Start-up never imports SQLAlchemy, so the migrations are frozen SQL; this test keeps the
models honest: a database migrated the way the sandbox does it (every add-on's migrations)
has, for every model table, the same columns (name, type, NOT NULL, default, primary key),
the same foreign keys, and every index the model declares. A model changed without a
migration (or the reverse) fails here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

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


def test_migrated_database_matches_the_models(tmp_path: Path) -> None:
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
    assert len(tables) == 31
    for table in tables:
        have, want = describe(migrated, table), describe(expected, table)
        assert have["columns"] == want["columns"], table
        assert have["foreign"] == want["foreign"], table
        assert have["uniques"] == want["uniques"], table
        for name, index in want["indexes"].items():  # migrations may add composite ones
            assert have["indexes"].get(name) == index, (table, name)

    migrated_tables = {
        row[0]
        for row in migrated.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'messages_fts%'"
        )
    }
    assert migrated_tables - set(tables) == {"schema_migrations"}, "a table without a model"
