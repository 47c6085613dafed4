"""The ``event_schedule`` table's store and the clock that says when to drain it.

Steps are written by the ingest hook (:func:`insert_steps`, one ``executemany`` per recipient)
and taken when due by the engine's loop (:func:`take_due`: one SELECT, one DELETE, one bulk read
of the messages concerned). :class:`DueClock` batches them: the loop drains every due step in
one transaction, at most once per :data:`TICK`, and a new message wakes it only when it
scheduled something earlier than the loop's next planned drain. So under load the scheduled
transitions cost a few transactions per second, not one per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from mailsandbox.storage import messages
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection, Row, Sql

TICK = 0.05  # at most one drain per TICK: steps due within it are applied together
MAX_IDLE = 1.0  # the loop looks at the table at least this often (resumes after restarts)
BATCH = 500

INSERT = (
    "INSERT INTO event_schedule (message_id, recipient, type, due, reason, code, details_json)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
StepRow = tuple[str, str, str, float, str, int, str]
# Replicas sharing a PostgreSQL database each take the due steps no other one has locked: a
# step is applied by exactly one replica (its row is deleted in the transaction that records
# its event; a replica that dies meanwhile rolls back and leaves it to the others).
_DUE = "SELECT * FROM event_schedule WHERE due <= ? ORDER BY due, seq LIMIT ?"
DUE = Sql(_DUE, postgresql=_DUE + " FOR UPDATE SKIP LOCKED")


def insert_steps(conn: Connection, rows: Sequence[StepRow]) -> None:
    conn.executemany(INSERT, rows)


def take_due(
    conn: Connection,
    now: float,
    limit: int = BATCH,
    known: Mapping[str, MessageSummary] | None = None,
) -> tuple[list[Row], dict[str, MessageSummary]]:
    """Remove and return the due steps (oldest first) with the summaries of their messages
    (a message deleted meanwhile is missing from the dict: its lifecycle ends). Summaries in
    ``known`` are used as they are, once the message is found to still exist."""
    rows = conn.execute(DUE, (now, limit)).fetchall()
    if not rows:
        return [], {}
    taken = [row["seq"] for row in rows]  # (at most BATCH: one statement, not one per step)
    conn.execute(f"DELETE FROM event_schedule WHERE seq IN ({','.join('?' * len(taken))})", taken)
    ids = list({row["message_id"]: None for row in rows})
    known = known or {}
    found: dict[str, MessageSummary] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        marks = ",".join("?" * len(chunk))
        existing = [
            row[0] for row in conn.execute(f"SELECT id FROM messages WHERE id IN ({marks})", chunk)
        ]
        found.update((i, known[i]) for i in existing if i in known)
        unknown = [i for i in existing if i not in known]
        if unknown:
            marks = ",".join("?" * len(unknown))
            summary_rows = conn.execute(
                f"SELECT {messages.SUMMARY_COLUMNS} FROM messages WHERE id IN ({marks})", unknown
            ).fetchall()
            found.update((s.id, s) for s in messages.summaries_from_rows(conn, summary_rows))
    return rows, found


def details_of(row: Row) -> dict[str, Any]:
    details: dict[str, Any] = json.loads(row["details_json"])
    return details


def shift(conn: Connection, message_id: str, delta: float) -> float | None:
    """Move every step ahead of a message by ``delta`` seconds; the earliest one's new time
    (None when it has none left)."""
    conn.execute(
        "UPDATE event_schedule SET due = due + ? WHERE message_id = ?", (delta, message_id)
    )
    row = conn.execute(
        "SELECT MIN(due) FROM event_schedule WHERE message_id = ?", (message_id,)
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def next_due(conn: Connection) -> float | None:
    row = conn.execute("SELECT MIN(due) FROM event_schedule WHERE due < ?", (HELD,)).fetchone()
    return float(row[0]) if row and row[0] is not None else None


# --- held steps (a paused SendGrid batch) ------------------------------------------------
# A held step keeps its place in the table with ``due = HELD + seconds it had left``: never
# due, and released with the same delay it had when it was held.
HELD = 1e12  # about the year 33658


def held(rows: Sequence[StepRow], now: float) -> list[StepRow]:
    """``rows`` as held steps."""
    return [(*row[:3], HELD + max(row[3] - now, 0.0), *row[4:]) for row in rows]


def _message_filter(message_ids: Sequence[str]) -> tuple[str, list[str]]:
    return f"message_id IN ({','.join('?' * len(message_ids))})", list(message_ids)


def hold(conn: Connection, message_ids: Sequence[str], now: float) -> int:
    """Hold the pending steps of these messages; returns how many."""
    if not message_ids:
        return 0
    where, args = _message_filter(message_ids)
    update = "UPDATE event_schedule SET due = ? +"
    where_due = f"WHERE due < ? AND {where}"
    sql = Sql(
        f"{update} MAX(due - ?, 0) {where_due}",
        postgresql=f"{update} GREATEST(due - ?, 0) {where_due}",
    )
    return conn.execute(sql, [HELD, now, HELD, *args]).rowcount


def release(conn: Connection, message_ids: Sequence[str], now: float) -> float | None:
    """Release the held steps of these messages; returns when the first one is now due."""
    if not message_ids:
        return None
    where, args = _message_filter(message_ids)
    conn.execute(f"UPDATE event_schedule SET due = ? + (due - ?) WHERE due >= ? AND {where}",
                 [now, HELD, HELD, *args])  # fmt: skip
    row = conn.execute(f"SELECT MIN(due) FROM event_schedule WHERE {where}", args).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def discard(conn: Connection, message_ids: Sequence[str]) -> int:
    """Drop the pending (or held) steps of these messages: nothing more happens to them."""
    if not message_ids:
        return 0
    where, args = _message_filter(message_ids)
    return conn.execute(f"DELETE FROM event_schedule WHERE {where}", args).rowcount


class DueClock:
    """When the engine's loop drains next. ``note`` runs inside a write transaction (the ingest
    hook); ``poke``, ``wait`` and ``drained`` on the event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._earliest = math.inf  # earliest step scheduled since the last drain began
        self._wake_at = 0.0  # when the loop plans to drain next (0: at once, e.g. at start)
        self._last = -math.inf
        self._event = asyncio.Event()

    def note(self, due: float) -> None:
        with self._lock:
            if due < self._earliest:
                self._earliest = due

    def poke(self) -> None:
        """After a commit: wake the loop if something is due before its planned drain."""
        if self._earliest < self._wake_at:
            self._event.set()

    async def wait(self) -> None:
        """Sleep until the planned drain (or a poke), but never sooner than TICK after the
        previous drain; then start a new drain."""
        delay = self._wake_at - time.time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), delay)
        pause = self._last + TICK - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        self._last = time.monotonic()
        self._event.clear()
        self._wake_at = -math.inf  # while draining, pokes are moot: drained() sees them all
        with self._lock:
            self._earliest = math.inf

    def drained(self, next_due: float | None) -> None:
        """After a drain: plan the next one (steps scheduled while it ran included)."""
        now = time.time()
        with self._lock:
            earliest = self._earliest
        wake_at = now + MAX_IDLE
        for due in (next_due, earliest):
            if due is not None and due < wake_at:
                wake_at = due
        self._wake_at = wake_at
