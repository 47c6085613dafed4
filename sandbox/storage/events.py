"""Delivery events in the shared vocabulary (django-anymail's): queued, delivered, deferred,
bounced, rejected, opened, clicked, complained, unsubscribed, subscribed.

Provider-specific ids and fields (sg_event_id, smtp-id, Mailgun event id, severity...) travel in
``details``; each emulator renders its own wire format from these rows.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mailsandbox import ids
from mailsandbox.storage import txmemo
from mailsandbox.storage.sql import Connection, Cursor, Row, limit_value

TYPES = (
    "queued",
    "delivered",
    "deferred",
    "bounced",
    "rejected",
    "opened",
    "clicked",
    "complained",
    "unsubscribed",
    "subscribed",  # resubscribed to an unsubscribe group (SendGrid group_resubscribe)
)


@dataclass
class DeliveryEvent:
    message_id: str  # the stored message's id
    type: str
    recipient: str = ""
    provider: str = ""
    reason: str = ""
    code: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    created: float = 0.0
    seq: int = 0


def _from_row(row: Row) -> DeliveryEvent:
    return DeliveryEvent(
        seq=row["seq"],
        id=row["id"],
        message_id=row["message_id"],
        recipient=row["recipient"],
        type=row["type"],
        created=row["created"],
        provider=row["provider"],
        reason=row["reason"],
        code=row["code"],
        details=json.loads(row["details_json"] or "{}"),
    )


_INSERT = (
    "INSERT INTO events (id, message_id, recipient, type, created, provider, reason, code,"
    " details_json) VALUES "
)
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
CHUNK = 500  # rows per INSERT (9 parameters each: well within either engine's limit)


def add(conn: Connection, event: DeliveryEvent) -> DeliveryEvent:
    add_all(conn, [event])
    return event


def add_all(conn: Connection, new: Sequence[DeliveryEvent]) -> Sequence[DeliveryEvent]:
    """Store events (in this order) with one statement per ``CHUNK``; each gets its ``id``
    (unless it has one), ``created`` and ``seq``. One statement, because on PostgreSQL each
    one whose result is read (the new seq) is a round trip: the event engine stores the
    events of every step a tick applies at once, and ingest the ``queued`` event of every
    recipient of a message. On PostgreSQL, in a write transaction, ``seq`` is set once it has
    committed (nothing needs it sooner: :func:`txmemo.after_commit`); refer to an event by its
    ``id`` until then."""
    for event in new:
        if event.type not in TYPES:
            raise ValueError(f"unknown event type {event.type!r}")
    for start in range(0, len(new), CHUNK):
        chunk = new[start : start + CHUNK]
        parameters: list[Any] = []
        for event in chunk:
            event.id = event.id or ids.new_id()
            event.created = event.created or round(time.time(), 6)
            parameters += (
                event.id,
                event.message_id,
                event.recipient,
                event.type,
                event.created,
                event.provider,
                event.reason,
                event.code,
                json.dumps(event.details, default=str),
            )
        rows = ",".join([_ROW] * len(chunk))
        cursor = conn.execute(f"{_INSERT}{rows} RETURNING id, seq", parameters)
        txmemo.after_commit(conn, cursor, functools.partial(_set_seqs, chunk))
    return new


def _set_seqs(events: Sequence[DeliveryEvent], cursor: Cursor) -> None:
    seqs = dict(cursor.fetchall())
    for event in events:
        event.seq = seqs[event.id]


def by_ids(conn: Connection, event_ids: Sequence[str]) -> list[DeliveryEvent]:
    """The listed events that exist, in the order they were recorded."""
    marks = ",".join("?" * len(event_ids))
    rows = conn.execute(f"SELECT * FROM events WHERE id IN ({marks}) ORDER BY seq", list(event_ids))
    return [_from_row(row) for row in rows]


def for_message(conn: Connection, message_id: str) -> list[DeliveryEvent]:
    rows = conn.execute(
        "SELECT * FROM events WHERE message_id = ? ORDER BY created, seq", (message_id,)
    ).fetchall()
    return [_from_row(row) for row in rows]


def query(
    conn: Connection,
    *,
    provider: str | None = None,
    types: list[str] | None = None,
    recipient: str | None = None,
    begin: float | None = None,
    end: float | None = None,
    after_seq: int | None = None,
    ascending: bool = False,
    limit: int = 100,
    extra_where: str = "",
    extra_args: tuple[Any, ...] = (),
) -> list[DeliveryEvent]:
    """A page of events; ``after_seq`` continues from a cursor in the chosen direction."""
    where: list[str] = []
    args: list[Any] = []
    if provider is not None:
        where.append("provider = ?")
        args.append(provider)
    if types:
        where.append(f"type IN ({','.join('?' * len(types))})")
        args += types
    if recipient is not None:
        where.append("recipient = ?")
        args.append(recipient)
    if begin is not None:
        where.append("created >= ?")
        args.append(begin)
    if end is not None:
        where.append("created <= ?")
        args.append(end)
    if after_seq is not None:
        where.append("seq > ?" if ascending else "seq < ?")
        args.append(after_seq)
    if extra_where:
        where.append(extra_where)
        args += list(extra_args)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    order = "ASC" if ascending else "DESC"
    rows = conn.execute(
        f"SELECT * FROM events {clause} ORDER BY seq {order} LIMIT ?",
        [*args, limit_value(conn, limit)],
    ).fetchall()
    return [_from_row(row) for row in rows]
