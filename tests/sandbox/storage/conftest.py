"""Fixtures of the storage tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailsandbox.storage.db import Database
from mailsandbox.storage.migrations import CORE_MIGRATIONS
from tests.conftest import Databases


@pytest.fixture
def core_database(tmp_path: Path, databases: Databases) -> Iterator[Database]:
    """A new database with the core schema (both backends), open."""
    database = Database(databases.new(tmp_path), list(CORE_MIGRATIONS))
    database.open()
    yield database
    database.close()
