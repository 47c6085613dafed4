"""Migration ``core.0500_compress_raw``: a database of the previous schema, raw messages
stored plain, opened by this version: every row compressed, every message's raw bytes the
same through the API, and (SQLite) the file smaller."""

from __future__ import annotations

import smtplib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mailsandbox.app import create_app
from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import rawcodec
from mailsandbox.storage.sql import SQLITE, Connection
from tests.conftest import Databases, make_settings

Factory = Callable[..., RunningSandbox]
MIGRATION = "core.0500_compress_raw"
COPIED = ("messages", "message_parts", "message_tags")


def mail(n: int) -> bytes:
    lines = "".join(f"Line {i} of message {n}: your order has shipped.\r\n" for i in range(400))
    return (
        f"From: shop@example.com\r\nTo: ann@example.com\r\nSubject: Order {n}\r\n"
        f"Message-ID: <{n}@example.com>\r\n\r\nReference ref{n:03d}x\r\n{lines}"
    ).encode()


def rows_of(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the message tables, raw bytes unpacked (as the old schema kept them).
    (PostgreSQL's search text is a table of the database too; SQLite's index file is rebuilt
    from the raw bytes at start.)"""
    tables = COPIED if isinstance(conn, sqlite3.Connection) else (*COPIED, "messages_fts")
    rows = {table: [tuple(r) for r in conn.execute(f"SELECT * FROM {table}")] for table in tables}
    raw = conn.execute("SELECT seq, raw, codec FROM message_raw").fetchall()
    rows["message_raw"] = [(seq, rawcodec.unpack(bytes(s), codec)) for seq, s, codec in raw]
    return rows


def write_old(rows: dict[str, list[tuple[Any, ...]]]) -> Callable[[Connection], None]:
    def write(conn: Connection) -> None:
        for table, values in rows.items():
            if not values:
                continue
            marks = ",".join("?" * len(values[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", values)

    return write


def test_an_old_database_is_compressed_and_reads_the_same(
    tmp_path: Path, sandbox_factory: Factory, databases: Databases, backend: str
) -> None:
    # Messages stored by this version, read back through the API: what must come out later.
    source = sandbox_factory()
    with smtplib.SMTP(source.smtp_host, source.smtp_port, timeout=30) as client:
        for n in range(40):
            client.sendmail("shop@example.com", ["ann@example.com"], mail(n))
    with httpx.Client(base_url=source.url, timeout=30) as api:
        ids = [
            m["ID"] for m in api.get("/api/v1/messages", params={"limit": 100}).json()["messages"]
        ]
        expected = {mid: api.get(f"/api/v1/message/{mid}/raw").content for mid in ids}
    rows = source.sandbox.db.read_sync(rows_of)

    # The same rows in a database made by the migrations before 0500: raw bytes plain.
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    location = databases.new(old_dir, migrated=False)
    old = create_app(make_settings(old_dir, db=location)).state.sandbox
    old.migrations[:] = [m for m in old.migrations if m.id != MIGRATION]
    old.db.open()
    old.db.write_sync(write_old(rows))
    assert MIGRATION not in old.db.applied_migrations()
    first = old.db.read_sync(lambda conn: conn.execute("SELECT * FROM message_raw").fetchone())
    assert len(tuple(first)) == 2  # seq, raw: no codec column yet
    old.db.close()
    before = (old_dir / "sandbox.db").stat().st_size if backend == SQLITE else 0

    migrated = sandbox_factory(db=location)
    assert MIGRATION in migrated.sandbox.db.applied_migrations()
    codecs = migrated.sandbox.db.read_sync(
        lambda conn: conn.execute(
            "SELECT codec, COUNT(*) FROM message_raw GROUP BY codec"
        ).fetchall()
    )
    assert [tuple(row) for row in codecs] == [(rawcodec.DEFLATE, 40)]
    with httpx.Client(base_url=migrated.url, timeout=30) as api:
        assert {mid: api.get(f"/api/v1/message/{mid}/raw").content for mid in ids} == expected
        found = api.get("/api/v1/search", params={"query": "ref017x"}).json()["messages"]
        assert [m["Subject"] for m in found] == ["Order 17"]
    if backend == SQLITE:
        after = (old_dir / "sandbox.db").stat().st_size
        raw_bytes = sum(len(raw) for raw in expected.values())
        assert before - after > raw_bytes * 0.7, (before, after, raw_bytes)  # VACUUMed
