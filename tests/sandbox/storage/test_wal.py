"""The WAL does not keep the size of the biggest burst (issue 14: ``--max-messages 1000`` and
20,000 messages left a 259 MB WAL until shutdown): once writes pause, the database's and the
search index's WAL files are truncated, in a running server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.sandbox.serve_process import start_serve
from tests.waiting import eventually

MESSAGES = 20_000
CONNECTIONS = 8
BODY = b"The quick brown fox jumps over the lazy dog, again and again.\r\n" * 40


async def _reply(reader: asyncio.StreamReader) -> bytes:
    while True:
        line = await reader.readline()
        if line[3:4] != b"-":
            return line


async def _send_over(port: int, count: int) -> int:
    """Send ``count`` messages on one connection, MAIL/RCPT/DATA pipelined; how many got 250."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await _reply(reader)
    writer.write(b"EHLO test.example\r\n")
    await _reply(reader)
    accepted = 0
    for n in range(count):
        writer.write(b"MAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
        for _ in range(3):
            await _reply(reader)
        writer.write(b"Subject: burst %d\r\n\r\n" % n + BODY + b".\r\n")
        accepted += (await _reply(reader)).startswith(b"250")
    writer.write(b"QUIT\r\n")
    await _reply(reader)
    writer.close()
    return accepted


async def _burst(port: int) -> int:
    share = MESSAGES // CONNECTIONS
    return sum(await asyncio.gather(*(_send_over(port, share) for _ in range(CONNECTIONS))))


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def test_wal_files_shrink_once_writes_pause(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    server = start_serve(db, "--max-messages", "1000")
    wals = [tmp_path / "sandbox.db-wal", tmp_path / "sandbox.db-search-wal"]
    try:
        assert asyncio.run(_burst(server.smtp_port)) == MESSAGES
        with httpx.Client(base_url=server.url) as api:
            # (generous: pruning 19,000 messages on a loaded 2-core CI machine takes a while)
            eventually(lambda: api.get("/api/v1/messages").json()["total"] == 1000, timeout=120)
        eventually(lambda: [_size(wal) for wal in wals] == [0, 0], timeout=60)
        # Still a working database: what is left is listed and searchable.
        with httpx.Client(base_url=server.url) as api:
            found = api.get("/api/v1/search", params={"query": "quick brown", "limit": 0})
            assert found.json()["messages_count"] == 1000
    finally:
        server.stop()
