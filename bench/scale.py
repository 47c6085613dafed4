"""Scale benchmark: 100,000 stored messages, then API latency, server memory and database size.

The messages are written straight through the sandbox's own ``Database`` writer and message
store (the same rows ingest writes, parsed by the same code), in transactions of 1,000, so
loading takes a minute instead of an SMTP session of 100,000 messages. Then the sandbox is
started as ``python -m mailsandbox serve`` on that database and timed through its HTTP API:
list page 1, a full-text search, a field search, get-message (p50 / p95 of repeated calls) and
MailHog's ``containing`` search, which scans every raw message (p50 / max of a few calls),
followed by the server's resident memory and the size of the database files (the messages
file and the search file, against the raw bytes of the messages: issue 19's ratio).

    .venv/bin/python bench/scale.py [--messages 100000] [--db /tmp/scale.db [--reuse]]
    .venv/bin/python bench/scale.py --backend postgresql [--db postgresql://... [--reuse]]

``--backend postgresql`` measures team mode's storage: the database is ``--db`` (a URL), or a
new one on a throwaway cluster (``tests/postgres.py``), and its size is
``pg_database_size``. The search texts are moved into the indexed table as the server's
search-mover does, and the database is vacuumed and analysed before the reads are measured.

The first start of the server on ``--db`` is timed: on a database of an earlier version it
includes the migrations (e.g. issue 19's compression of every stored message).

``--reuse`` keeps the messages already in ``--db`` when there are enough (a second run would
otherwise add another 100,000), and marks them unread again, as after a fresh load (get-message
marks messages read, and the unread count of a search depends on it).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smtp_ingest import free_port, postgres_cluster, start_sandbox

from mailsandbox import ids, indexer, pg_indexer
from mailsandbox.ingest import Inbound, prepare
from mailsandbox.storage import messages
from mailsandbox.storage.db import Database
from mailsandbox.storage.sql import Connection

WORDS = [
    "invoice",
    "order",
    "shipping",
    "refund",
    "account",
    "password",
    "reset",
    "welcome",
    "newsletter",
    "receipt",
    "meeting",
    "report",
    "quarterly",
    "update",
    "security",
    "alert",
    "verify",
    "subscription",
    "trial",
    "payment",
    "delivery",
    "tracking",
    "confirmation",
    "reminder",
    "survey",
    "feedback",
    "event",
    "ticket",
    "booking",
]
BATCH = 1000


def templates(count: int = 200) -> list[messages.NewMessage]:
    """A few hundred realistic messages (some with attachments), parsed by the real code."""
    rng = random.Random(7)
    result = []
    for n in range(count):
        words = rng.sample(WORDS, 6)
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 600)))
        raw = (
            f"From: Shop {n % 17} <shop{n % 17}@example.com>\r\nTo: user{n}@example.org\r\n"
            f"Subject: {words[0].title()} {words[1]} {words[2]}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        ).encode()
        result.append(prepare(Inbound(raw=raw, mail_from=f"bounce{n}@example.com",
                                      rcpt_tos=[f"user{n}@example.org"])))  # fmt: skip
    return result


def _insert_all(rows: list[messages.NewMessage]) -> Callable[[Connection], None]:
    def insert(conn: Connection) -> None:
        for row in rows:
            messages.insert_message(conn, row)

    return insert


def load(db: Path | str, total: int) -> float:
    """Insert ``total`` messages through the Database writer; returns seconds taken."""
    # The schema is already there (serve created it); on SQLite the search index file is
    # attached as the server attaches it, so that insert_message fills the index as it goes
    # (on PostgreSQL the search text is written with the message, then moved into the
    # indexed table, as the server's search-mover does: mailsandbox.pg_indexer).
    attachments = [indexer.attachment(db)] if isinstance(db, Path) else []
    database = Database(db, [], attachments=attachments)
    database.open()
    base = templates()
    started = time.perf_counter()
    created = time.time() - total
    for first in range(0, total, BATCH):
        rows = []
        for n in range(first, min(first + BATCH, total)):
            template = base[n % len(base)]
            parsed = dataclasses.replace(
                template.parsed,
                subject=f"{template.parsed.subject} #{n}",
                search_text=f"{template.parsed.search_text} order{n}",
            )
            rows.append(
                dataclasses.replace(template, id=ids.new_id(), created=created + n, parsed=parsed)
            )
        database.write_sync(_insert_all(rows))
    if not isinstance(db, Path):  # what the server's search-mover thread does after commits
        conn = database.connect()
        while pg_indexer.move_pending(conn):
            pass
        conn.close()
    database.close()
    return time.perf_counter() - started


def mark_unread(db: Path | str) -> int:
    """Mark every message of ``db`` unread (as freshly loaded); returns how many it has."""
    update, count = "UPDATE messages SET read = 0 WHERE read != 0", "SELECT COUNT(*) FROM messages"
    if isinstance(db, str):
        with psycopg.connect(db) as pg:
            pg.execute(update)
            return int(pg.execute(count).fetchone()[0])  # type: ignore[index]
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(update)
        return int(conn.execute(count).fetchone()[0])
    finally:
        conn.close()


RAW_BYTES = "SELECT SUM(size), (SELECT SUM(LENGTH(raw)) FROM message_raw) FROM messages"


def disk(db: Path | str) -> str:
    """Where the bytes are (MB of 10^6 bytes, as issue 19 counts them): the messages file and
    the search file (SQLite; with their WALs), the raw bytes received and as stored, and the
    ratio of the files to the raw bytes."""
    if isinstance(db, str):
        with psycopg.connect(db) as pg:
            total = pg.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
            raw, stored = pg.execute(RAW_BYTES).fetchone()  # type: ignore[misc]
        files = "database"
    else:
        conn = sqlite3.connect(db)
        try:
            raw, stored = conn.execute(RAW_BYTES).fetchone()
        finally:
            conn.close()
        main = sum(p.stat().st_size for p in db.parent.glob(db.name + "-wal"))
        main += db.stat().st_size
        search = sum(p.stat().st_size for p in db.parent.glob(db.name + "-search*"))
        total = main + search
        files = f"messages file {main / 1e6:.0f} MB + search file {search / 1e6:.0f} MB ="
    return (
        f"{files} {total / 1e6:.0f} MB; raw {raw / 1e6:.0f} MB received,"
        f" {stored / 1e6:.0f} MB stored ({raw / stored:.2f}x smaller); files / raw"
        f" {total / raw:.2f}x"
    )


def timed(
    client: httpx.Client, path: str, params: Mapping[str, str | int], runs: int
) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def rss_mb(pid: int) -> tuple[float, float]:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return (int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--db", default="", help="database file or URL (default: a temporary one)")
    parser.add_argument("--runs", type=int, default=30, help="requests per timed endpoint")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the messages of --db if it has enough"
    )
    args = parser.parse_args()
    cluster = None
    db: Path | str
    if args.backend == "postgresql":
        if not args.db:
            cluster = postgres_cluster()
            args.db = cluster.database(migrated=False)
        db = args.db
    else:
        db = Path(args.db or Path(tempfile.mkdtemp(prefix="mailsandbox-scale-")) / "scale.db")

    smtp_port, http_port = free_port(), free_port()
    if isinstance(db, Path) and db.exists():
        print(disk(db))  # (as found: e.g. a database of an earlier version, to migrate)
    started = time.perf_counter()
    first = start_sandbox(db, smtp_port, http_port)  # creates the schema (or migrates it)
    print(f"first start (schema, migrations) {time.perf_counter() - started:.1f} s")
    first.terminate()
    first.wait(30)
    kept = mark_unread(db) if args.reuse else 0
    if kept >= args.messages:
        print(f"reusing the {kept} messages of {db}")
    else:
        seconds = load(db, args.messages)
        print(f"loaded {args.messages} messages in {seconds:.1f} s")

    if not isinstance(db, Path):
        # What autovacuum does within a minute or so of a bulk load: measured right after
        # it, it still ran (list page p50 33-34 ms instead of 13: bench/README.md).
        with psycopg.connect(str(db), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    server = start_sandbox(db, smtp_port, http_port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=60) as api:
            listing = api.get("/api/v1/messages").json()
            assert listing["total"] >= args.messages, listing["total"]
            some_ids = [m["ID"] for m in listing["messages"]]
            cases = {
                "list page 1": ("/api/v1/messages", {}),
                "search: common word": ("/api/v1/search", {"query": "refund"}),
                "search: rare word": ("/api/v1/search", {"query": f"order{args.messages // 2}"}),
                "search: two fields": ("/api/v1/search", {"query": "subject:invoice from:shop3"}),
            }
            print(f"{'request':<24}{'p50 ms':>9}{'p95 ms':>9}")
            for name, (path, params) in cases.items():
                samples = timed(api, path, params, args.runs)
                print(f"{name:<24}{statistics.median(samples):>9.1f}"
                      f"{statistics.quantiles(samples, n=20)[-1]:>9.1f}")  # fmt: skip
            message_samples: list[float] = []
            for n in range(args.runs):
                message_samples += timed(
                    api, f"/api/v1/message/{some_ids[n % len(some_ids)]}", {}, 1
                )
            print(f"{'get message':<24}{statistics.median(message_samples):>9.1f}"
                  f"{statistics.quantiles(message_samples, n=20)[-1]:>9.1f}")  # fmt: skip
            # MailHog's "containing" reads every raw message (a full scan): fewer runs.
            params = {"kind": "containing", "query": "not in any message"}
            scan = timed(api, "/api/v2/search", params, max(3, args.runs // 10))
            print(f"{'mailhog containing':<24}{statistics.median(scan):>9.1f}{max(scan):>9.1f}")
        rss, peak = rss_mb(server.pid)
        print(f"server RSS {rss:.0f} MB (peak {peak:.0f} MB)")
        print(disk(db))
    finally:
        server.terminate()
        server.wait(30)
        if cluster is not None:
            cluster.stop()
        elif not args.db and isinstance(db, Path):
            shutil.rmtree(db.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
