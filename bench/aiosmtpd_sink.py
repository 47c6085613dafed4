"""The baselines of ``bench/smtp_ingest.py``: stock aiosmtpd on ``loop.create_server`` whose
handler discards every message (the ceiling of aiosmtpd on this machine), or, with
``--store FILE``, stores each message's bytes with an ``INSERT`` committed before it answers
250 (SQLite in WAL mode with ``synchronous=NORMAL``, the sandbox's durability; the messages
that arrive together share a commit): the floor of a durable catcher built on aiosmtpd and
SQLite, with no parsing, no metadata and no search index.

A file of its own, importing nothing but the standard library and aiosmtpd, so that its
start-up time and idle memory are those of a bare aiosmtpd server, not of the benchmark's
client.

    .venv/bin/python bench/aiosmtpd_sink.py PORT [--store FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3

from aiosmtpd.smtp import SMTP, Envelope


class Discard:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


class Store:
    """One row per message, committed before the 250, on the event loop (no thread hand-off).

    Group commit: the messages whose data ends within one turn of the loop share one
    transaction, committed at the next turn (with 1 connection, a commit per message).
    """

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS mail (id INTEGER PRIMARY KEY, raw BLOB)")
        self.batch: list[tuple[bytes, asyncio.Future[None]]] = []

    def commit(self) -> None:
        batch, self.batch = self.batch, []
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT INTO mail (raw) VALUES (?)", [(raw,) for raw, _ in batch])
        self.conn.execute("COMMIT")
        for _, done in batch:
            done.set_result(None)

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        loop = asyncio.get_running_loop()
        if not self.batch:
            loop.call_soon(self.commit)
        done = loop.create_future()
        self.batch.append((envelope.original_content or b"", done))
        await done
        return "250 OK"


async def main(port: int, store: str | None) -> None:
    loop = asyncio.get_running_loop()
    handler = Discard() if store is None else Store(store)
    server = await loop.create_server(
        lambda: SMTP(handler, enable_SMTPUTF8=True, decode_data=False, loop=loop),
        "127.0.0.1",
        port,
    )
    await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--store", metavar="FILE", help="commit each message to this database")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.store))
