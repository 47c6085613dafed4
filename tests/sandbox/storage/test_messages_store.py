"""Writing a message: PostgreSQL's one-statement insert against the statement-per-row path,
and with a seq reserved ahead against one drawn by the insert."""

from __future__ import annotations

import asyncio
import base64
import dataclasses

import pytest

from mailsandbox.ingest import Inbound, prepare
from mailsandbox.storage import messages
from mailsandbox.storage.db import Database
from mailsandbox.storage.sql import Connection, is_postgresql

MESSAGE = (
    b"From: Ann <ann@example.com>\r\nTo: bob@example.org\r\nSubject: Plans \xc3\xa9t\xc3\xa9\r\n"
    b"Message-ID: <plans-1@example.com>\r\nMIME-Version: 1.0\r\nX-Tags: one, two\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
    b"Let us meet at noon. 100% sure\x00.\r\n--b\r\nContent-Type: application/octet-stream\r\n"
    b'Content-Disposition: attachment; filename="a.bin"\r\nContent-Transfer-Encoding: base64\r\n'
    b"\r\n" + base64.b64encode(bytes(range(256))) + b"\r\n--b--\r\n"
)


def _rows(conn: Connection, seq: int) -> list[object]:
    """Everything stored for the message at ``seq``, but its id and seq."""
    message = conn.execute("SELECT * FROM messages WHERE seq = ?", (seq,)).fetchone()
    names = message.keys()  # (a sqlite3.Row iterates over its values)
    fields = {k: message[k] for k in names if k not in ("id", "seq")}
    raw = conn.execute("SELECT raw, codec FROM message_raw WHERE seq = ?", (seq,)).fetchone()
    texts = "search_texts" if is_postgresql(conn) else "messages_fts"  # (and those pending)
    fts = conn.execute(f"SELECT search_text FROM {texts} WHERE rowid = ?", (seq,)).fetchall()
    parts = conn.execute(
        "SELECT part_id, filename, size, sha256 FROM message_parts WHERE message_seq = ?", (seq,)
    ).fetchall()
    tags = messages.tags_for(conn, [seq])[seq]
    return [fields, bytes(raw[0]), raw[1], [tuple(r) for r in fts], [tuple(r) for r in parts], tags]


@pytest.mark.parametrize("index", [True, False])
def test_one_statement_stores_what_a_statement_per_row_stores(
    core_database: Database, index: bool
) -> None:
    """On PostgreSQL ``insert_message`` writes the message, its raw bytes and its search
    text with one statement; the plain path (a statement each, as on SQLite) stores the same
    rows (on SQLite both are the plain path)."""
    together = prepare(Inbound(MESSAGE, "ann@example.com", ["bob@example.org"]))
    apart = dataclasses.replace(together, id=together.id + "x")
    assert together.parsed.parts and together.tags == ["one", "two"]
    text = together.parsed.search_text if index else None

    def write(conn: Connection) -> tuple[int, int]:
        seq = messages.insert_message(conn, together, index=index)
        plain = messages._insert_apart(conn, messages._message_values(apart), apart.stored, text)
        messages._insert_parts_and_tags(conn, apart, plain)
        return seq, plain

    seq, plain = core_database.write_sync(write)
    stored = core_database.read_sync(lambda conn: (_rows(conn, seq), _rows(conn, plain)))
    assert stored[0] == stored[1]
    assert len(stored[0][3]) == (1 if index else 0)  # its search text, or none
    assert stored[0][5] == ["one", "two"] and len(stored[0][4]) == len(together.parsed.parts)
    assert plain > seq


def test_a_reserved_seq_stores_what_a_drawn_seq_stores(core_database: Database) -> None:
    """A write job that says how many messages it inserts (``seqs``) gets their seqs reserved
    with its BEGIN on PostgreSQL (``messages.reserve_seqs``): it inserts them without waiting
    for the seq each insert draws. Those messages are stored as one whose insert drew its seq,
    in insertion order, and an insert beyond the reservation draws as before (on SQLite every
    insert is the plain path)."""
    core_database.reserve = messages.reserve_seqs
    first = prepare(Inbound(MESSAGE, "ann@example.com", ["bob@example.org"]))
    batch = [dataclasses.replace(first, id=f"{first.id}{n}") for n in range(3)]

    def write(conn: Connection) -> list[int]:
        return [messages.insert_message(conn, new) for new in batch]

    async def reserved_then_drawn() -> list[int]:
        job = core_database.schedule(write, seqs=2)  # one fewer than it inserts
        seqs: list[int] = await job.waiter  # type: ignore[misc]
        return seqs

    seqs = asyncio.run(reserved_then_drawn())
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    stored = core_database.read_sync(lambda conn: [_rows(conn, seq) for seq in seqs])
    assert stored[0] == stored[1] == stored[2]
    ids = core_database.read_sync(
        lambda conn: [r[0] for r in conn.execute("SELECT id FROM messages ORDER BY seq")]
    )
    assert ids == [new.id for new in batch]
