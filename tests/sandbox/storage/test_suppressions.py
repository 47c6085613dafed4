"""Suppression lists in SQLite: counts per list, and searching part of an address."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailsandbox.storage import suppressions as store
from mailsandbox.storage.db import Database
from mailsandbox.storage.migrations import CORE_MIGRATIONS
from mailsandbox.storage.suppressions import Suppression


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "s.db", list(CORE_MIGRATIONS))
    database.open()
    yield database
    database.close()


def test_counts_and_search_by_part_of_an_address(database: Database) -> None:
    def fill(conn: sqlite3.Connection) -> None:
        for kind, scope, email in [
            ("bounce", "", "ann_smith@example.com"),
            ("bounce", "", "annXsmith@example.com"),
            ("bounce", "", "100%@example.com"),
            ("unsubscribe", "", "bob@example.com"),
            ("bounce", "mg.example.com", "ann_smith@example.com"),
        ]:
            store.add(conn, Suppression(kind, email, scope))

    database.write_sync(fill)

    counts = database.read_sync(store.counts)
    underscores = database.read_sync(
        lambda conn: store.count_entries(conn, "bounce", email_contains="_SMITH")
    )
    percent = database.read_sync(
        lambda conn: [e.email for e in store.list_entries(conn, "bounce", email_contains="0%")]
    )
    scoped = database.read_sync(lambda conn: store.count_entries(conn, "bounce", "mg.example.com"))
    assert counts == {("", "bounce"): 3, ("", "unsubscribe"): 1, ("mg.example.com", "bounce"): 1}
    assert underscores == 1  # "_" is a literal underscore, not any character
    assert percent == ["100%@example.com"]
    assert scoped == 1
