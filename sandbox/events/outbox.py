"""The durable webhook outbox: rows written in the event's own transaction, attempts logged.

Plain functions on a sqlite3 connection, like the core stores. A row is ``pending`` until a
POST is acknowledged (``delivered``), the provider says stop (``stopped``, e.g. Mailgun 406)
or its retry window runs out (``failed``). ``requeue`` replays any row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mailsandbox import ids
from mailsandbox.events.providers import Target, WebhookProvider
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection, Row

EXCERPT = 500
# What a delivery made inside the sandbox (a message re-ingested) records as its status: the
# SMTP code for "stored", so the log never shows an HTTP status no server sent.
LOCAL_OK = 250
KEEP = 10_000  # finished rows kept for the log; older ones are trimmed


@dataclass
class OutboxItem:
    seq: int
    id: str
    created: float
    provider: str
    endpoint_id: str
    url: str
    signed: bool
    message_id: str
    event_id: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt: float


@dataclass
class AttemptResult:
    status_code: int
    latency_ms: float
    response_excerpt: str = ""
    error: str = ""
    final: bool = False  # no point retrying (e.g. the message to post is gone)

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300 or self.status_code == LOCAL_OK


def _item(row: Row) -> OutboxItem:
    return OutboxItem(
        seq=row["seq"],
        id=row["id"],
        created=row["created"],
        provider=row["provider"],
        endpoint_id=row["endpoint_id"],
        url=row["url"],
        signed=bool(row["signed"]),
        message_id=row["message_id"],
        event_id=row["event_id"],
        payload=json.loads(row["payload_json"]),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt=row["next_attempt"],
    )


def add(
    conn: Connection,
    provider: str,
    target: Target,
    payload: dict[str, Any],
    *,
    message_id: str = "",
    event_id: str = "",
) -> str:
    now = time.time()
    outbox_id = ids.new_id()
    conn.execute(
        "INSERT INTO webhook_outbox (id, created, provider, endpoint_id, url, signed, message_id,"
        " event_id, payload_json, status, attempts, next_attempt, updated, last_status, last_error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, 0, '')",
        (
            outbox_id,
            now,
            provider,
            target.endpoint_id,
            target.url,
            int(target.signed),
            message_id,
            event_id,
            json.dumps(payload, default=str),
            now,
            now,
        ),
    )
    return outbox_id


def enqueue_event(
    conn: Connection,
    provider: WebhookProvider,
    event: DeliveryEvent,
    message: MessageSummary,
) -> int:
    """Outbox rows for every endpoint that wants ``event``; returns how many."""
    targets = provider.targets(conn, event, message)
    if not targets:
        return 0
    payload = provider.payload(event, message)
    if payload is None:
        return 0
    for target in targets:
        body = provider.addressed(conn, payload, target)
        add(conn, provider.name, target, body, message_id=message.id, event_id=event.id)
    return len(targets)


def due(
    conn: Connection, now: float, limit: int = 500, exclude: Sequence[int] = ()
) -> list[OutboxItem]:
    rows = conn.execute(
        "SELECT * FROM webhook_outbox WHERE status = 'pending' AND next_attempt <= ?"
        " ORDER BY next_attempt, seq LIMIT ?",
        (now, limit + len(exclude)),
    ).fetchall()
    skip = set(exclude)
    return [_item(row) for row in rows if row["seq"] not in skip][:limit]


def still_due(conn: Connection, seqs: Sequence[int], now: float) -> list[OutboxItem]:
    """Of the rows ``seqs``, those still pending and due, as they are now (team mode: read
    again once claimed, since another replica may have sent one meanwhile)."""
    found: list[OutboxItem] = []
    for start in range(0, len(seqs), 500):
        chunk = list(seqs[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT * FROM webhook_outbox WHERE seq IN ({marks}) AND status = 'pending'"
            " AND next_attempt <= ? ORDER BY next_attempt, seq",
            [*chunk, now],
        )
        found += [_item(row) for row in rows]
    return found


def next_due(conn: Connection) -> float | None:
    row = conn.execute(
        "SELECT MIN(next_attempt) FROM webhook_outbox WHERE status = 'pending'"
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def record(
    conn: Connection,
    items: Sequence[OutboxItem],
    result: AttemptResult,
    *,
    status: str,
    next_attempt: float,
) -> None:
    """Log one POST covering ``items`` and move them to ``status``."""
    now = time.time()
    batch_id = ids.new_id()
    for item in items:
        attempt = item.attempts + 1
        conn.execute(
            "INSERT INTO webhook_attempts (outbox_id, batch_id, attempt, created, status_code, ok,"
            " latency_ms, response_excerpt, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.id,
                batch_id,
                attempt,
                now,
                result.status_code,
                int(result.ok),
                round(result.latency_ms, 2),
                result.response_excerpt[:EXCERPT],
                result.error[:EXCERPT],
            ),
        )
        conn.execute(
            "UPDATE webhook_outbox SET status = ?, attempts = ?, next_attempt = ?, updated = ?,"
            " last_status = ?, last_error = ? WHERE seq = ?",
            (
                status,
                attempt,
                next_attempt,
                now,
                result.status_code,
                result.error[:EXCERPT],
                item.seq,
            ),
        )


def requeue(conn: Connection, outbox_id: str) -> bool:
    """Replay: send this row again as soon as possible."""
    now = time.time()
    cursor = conn.execute(
        "UPDATE webhook_outbox SET status = 'pending', next_attempt = ?, created = ?, updated = ?"
        " WHERE id = ?",
        (now, now, now, outbox_id),
    )
    return cursor.rowcount > 0


def get(conn: Connection, outbox_id: str) -> OutboxItem | None:
    row = conn.execute("SELECT * FROM webhook_outbox WHERE id = ?", (outbox_id,)).fetchone()
    return _item(row) if row else None


def attempts(
    conn: Connection, *, message_id: str | None = None, limit: int = 200, offset: int = 0
) -> list[dict[str, Any]]:
    """Attempts newest first, joined with their outbox row (for the API and the UI)."""
    where, args = ("WHERE o.message_id = ?", [message_id]) if message_id else ("", [])
    rows = conn.execute(
        "SELECT a.*, o.provider, o.url, o.message_id, o.event_id, o.status AS outbox_status,"
        " o.endpoint_id FROM webhook_attempts a JOIN webhook_outbox o ON o.id = a.outbox_id"
        f" {where} ORDER BY a.seq DESC LIMIT ? OFFSET ?",
        [*args, limit, offset],
    ).fetchall()
    return [dict(row) for row in rows]


def counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute("SELECT status, COUNT(*) FROM webhook_outbox GROUP BY status").fetchall()
    return {row[0]: row[1] for row in rows}


def trim(conn: Connection, keep: int = KEEP) -> int:
    """Forget finished rows (and their attempts) older than the newest ``keep`` rows."""
    row = conn.execute("SELECT MAX(seq) FROM webhook_outbox").fetchone()
    if not row or row[0] is None or row[0] <= keep:
        return 0
    old = "SELECT id FROM webhook_outbox WHERE status != 'pending' AND seq <= ?"
    limit = row[0] - keep
    conn.execute(f"DELETE FROM webhook_attempts WHERE outbox_id IN ({old})", (limit,))
    return conn.execute(
        "DELETE FROM webhook_outbox WHERE status != 'pending' AND seq <= ?", (limit,)
    ).rowcount


def states(conn: Connection, outbox_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Where these rows stand (status, attempts, last answer), by id; unknown ids are absent."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(outbox_ids), 500):
        chunk = list(outbox_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT id, provider, url, status, attempts, next_attempt, last_status, last_error"
            f" FROM webhook_outbox WHERE id IN ({marks})",
            chunk,
        )
        found.update((row["id"], dict(row)) for row in rows)
    return found
