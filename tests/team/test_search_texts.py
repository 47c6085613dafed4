"""Team mode's search texts (:mod:`mailsandbox.pg_indexer`): written with their messages into
a pending table, moved into the trigram-indexed one by a replica's thread. A search answers the
same before and after the move, each replica moves what is pending (its own and what others
left), and deleting a message deletes its text wherever it is."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailsandbox.ingest import Inbound, prepare
from mailsandbox.pg_indexer import PgIndexer, move_pending
from mailsandbox.storage import messages, search
from mailsandbox.storage.db import Database
from mailsandbox.storage.migrations import CORE_MIGRATIONS
from mailsandbox.storage.sql import Connection
from tests.postgres import Cluster
from tests.waiting import eventually

QUERIES = ["refund", "REFUND invoice", "efun", "number 1", "-refund", "subject:message refund"]


@pytest.fixture
def database(postgres_cluster: Cluster, tmp_path: Path) -> Iterator[Database]:
    url = postgres_cluster.database(migrated=False)
    database = Database(url, list(CORE_MIGRATIONS))
    database.open()
    yield database
    database.close()
    postgres_cluster.drop(url)


def _store(database: Database, numbers: range) -> list[str]:
    """Messages ``numbers`` (every third one about a refund), stored; their ids."""
    batch = [
        prepare(
            Inbound(
                f"From: shop@example.com\r\nTo: user{n}@example.org\r\nSubject: Message {n}\r\n"
                f"\r\nAbout your {'refund' if n % 3 == 0 else 'order'} and invoice, number {n}."
                "\r\n".encode(),
                "shop@example.com",
                [f"user{n}@example.org"],
            )
        )
        for n in numbers
    ]
    database.write_sync(lambda conn: [messages.insert_message(conn, new) for new in batch])
    return [new.id for new in batch]


def _where(database: Database) -> tuple[int, int]:
    """How many search texts are pending, how many indexed."""
    return database.read_sync(
        lambda conn: tuple(
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("messages_fts_pending", "messages_fts")
        )
    )


def _answers(database: Database) -> list[tuple[int, list[str]]]:
    def read(conn: Connection) -> list[tuple[int, list[str]]]:
        pages = [search.search(conn, query) for query in QUERIES]
        return [(page.total, [m.id for m in page.messages]) for page in pages]

    return database.read_sync(read)


def _move(database: Database) -> int:
    conn = database.connect()
    try:
        return move_pending(conn)
    finally:
        conn.close()


def test_a_search_answers_the_same_with_the_texts_pending_or_indexed(database: Database) -> None:
    _store(database, range(30))
    assert _where(database) == (30, 0)
    pending = _answers(database)
    assert (pending[0][0], pending[4][0]) == (10, 20)  # refund, -refund
    assert _move(database) == 30
    assert _where(database) == (0, 30)
    assert _answers(database) == pending
    _store(database, range(30, 42))  # some indexed, some pending
    mixed = _answers(database)
    assert (mixed[0][0], mixed[4][0]) == (14, 28)
    assert _move(database) == 12
    assert _answers(database) == mixed


def test_each_replica_moves_what_is_pending_its_own_and_what_others_left(
    database: Database,
) -> None:
    _store(database, range(5))  # left by a replica that stopped before moving them
    indexer, loop = PgIndexer(database), asyncio.new_event_loop()
    try:
        indexer.start(loop)
        eventually(lambda: _where(database) == (0, 5), what="what was left, moved at start")
        _store(database, range(5, 9))  # its own commit
        eventually(lambda: _where(database) == (0, 9), what="its own texts, moved")
        assert indexer.moved == 9
    finally:
        indexer.stop()
        loop.close()


def test_deleting_a_message_deletes_its_text_pending_or_indexed(database: Database) -> None:
    indexed = _store(database, range(4))
    _move(database)
    pending = _store(database, range(4, 8))
    gone = [*indexed[:2], *pending[:2]]
    assert sorted(database.write_sync(lambda conn: messages.delete_by_ids(conn, gone))) == sorted(
        gone
    )
    assert _where(database) == (2, 2)
    assert _answers(database)[0][0] == 2  # refunds left: messages 3 (indexed) and 6 (pending)
    database.write_sync(messages.delete_all)
    assert _where(database) == (0, 0)
