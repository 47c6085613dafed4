"""Kill -9 during a burst over 8 connections: every message that got a 250 survives."""

from __future__ import annotations

import re
import smtplib
import sqlite3
import threading
from pathlib import Path

import httpx

from tests.sandbox.serve_process import ServeProcess, start_serve
from tests.waiting import eventually

QUEUED = re.compile(rb"queued as (\w+)")


def _burst(server: ServeProcess, worker: int, acked: list[str], stop: threading.Event) -> None:
    """Send until the server dies; record the id of every message answered 250."""
    try:
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as client:
            client.ehlo()
            n = 0
            while not stop.is_set():
                n += 1
                token = f"tok{worker}x{n}z"
                client.mail("burst@example.com")
                client.rcpt("sink@example.com")
                code, reply = client.data(
                    f"Subject: burst {worker}/{n}\r\n\r\nbody {token} durable\r\n".encode()
                )
                found = QUEUED.search(reply)
                if code == 250 and found:
                    acked.append(found.group(1).decode())
    except (OSError, smtplib.SMTPException):
        return  # the server was killed under us


def test_every_acknowledged_message_survives_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "durable.db"
    server = start_serve(db, "--max-messages", "0")
    acked: list[str] = []
    stop = threading.Event()
    workers = [
        threading.Thread(target=_burst, args=(server, n, acked, stop), daemon=True)
        for n in range(8)
    ]
    try:
        for worker in workers:
            worker.start()
        eventually(lambda: len(acked) >= 200, timeout=30, what="200 acknowledged messages")
        server.proc.kill()  # SIGKILL, mid-burst
        server.proc.wait(10)
    finally:
        stop.set()
        server.stop()
    for worker in workers:
        worker.join(15)
    assert len(acked) >= 200
    snapshot = list(acked)

    with sqlite3.connect(db) as conn:  # straight from the file, before any restart
        on_disk = {row[0] for row in conn.execute("SELECT id FROM messages")}
    assert set(snapshot) <= on_disk

    restarted = start_serve(db, "--max-messages", "0")
    try:
        with httpx.Client(base_url=restarted.url, timeout=30) as api:
            listing = api.get("/api/v1/messages", params={"limit": 100000}).json()
            assert set(snapshot) <= {m["ID"] for m in listing["messages"]}
            # Indexing that the kill interrupted was finished at start: body text is searchable.
            found = api.get("/api/v1/search", params={"query": "durable", "limit": 100000}).json()
            assert set(snapshot) <= {m["ID"] for m in found["messages"]}
    finally:
        restarted.stop()
