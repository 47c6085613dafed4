"""Suppression lists shared by every provider (SendGrid's and Mailgun's APIs, the event engine).

Kinds use one vocabulary: ``bounce``, ``block``, ``spam_report``, ``invalid_email``,
``unsubscribe``, ``global_unsubscribe``, ``group_unsubscribe``, ``complaint``, ``whitelist``.
``scope`` is '' for account-wide lists (SendGrid), a sending domain (Mailgun), or
``asm:<group id>`` for a SendGrid unsubscribe group. Emails are stored lower-cased.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from mailsandbox.storage import txmemo
from mailsandbox.storage.sql import Connection, Cursor, Row, limit_value

KINDS = (
    "bounce",
    "block",
    "spam_report",
    "invalid_email",
    "unsubscribe",
    "global_unsubscribe",
    "group_unsubscribe",
    "complaint",
    "whitelist",
)


MEMO_KEY = "suppressions.any"  # whether any list holds anything (see suppressed_kinds)


@dataclass
class Suppression:
    kind: str
    email: str
    scope: str = ""
    reason: str = ""
    code: str = ""
    created: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


def _from_row(row: Row) -> Suppression:
    return Suppression(
        kind=row["kind"],
        email=row["email"],
        scope=row["scope"],
        reason=row["reason"],
        code=row["code"],
        created=row["created"],
        details=json.loads(row["details_json"] or "{}"),
    )


# --- writes ------------------------------------------------------------------------------
def add(conn: Connection, item: Suppression) -> Suppression:
    """Insert or refresh an entry (same kind, scope and email: the newest reason wins)."""
    if item.kind not in KINDS:
        raise ValueError(f"unknown suppression kind {item.kind!r}")
    item.email = item.email.strip().lower()
    item.created = item.created or round(time.time(), 3)
    txmemo.forget(conn, MEMO_KEY)
    conn.execute(
        "INSERT INTO suppressions (kind, scope, email, reason, code, created, details_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (kind, scope, email) DO UPDATE SET reason = excluded.reason,"
        " code = excluded.code, created = excluded.created, details_json = excluded.details_json",
        (
            item.kind,
            item.scope,
            item.email,
            item.reason,
            item.code,
            item.created,
            json.dumps(item.details),
        ),
    )
    return item


def remove(conn: Connection, kind: str, email: str, scope: str = "") -> bool:
    cursor = conn.execute(
        "DELETE FROM suppressions WHERE kind = ? AND scope = ? AND email = ?",
        (kind, scope, email.strip().lower()),
    )
    return cursor.rowcount > 0


def clear(conn: Connection, kind: str, scope: str = "") -> int:
    return conn.execute(
        "DELETE FROM suppressions WHERE kind = ? AND scope = ?", (kind, scope)
    ).rowcount


# --- reads -------------------------------------------------------------------------------
def get(conn: Connection, kind: str, email: str, scope: str = "") -> Suppression | None:
    row = conn.execute(
        "SELECT * FROM suppressions WHERE kind = ? AND scope = ? AND email = ?",
        (kind, scope, email.strip().lower()),
    ).fetchone()
    return _from_row(row) if row else None


def _filters(
    kind: str,
    scope: str,
    start_time: float | None = None,
    end_time: float | None = None,
    email_contains: str | None = None,
) -> tuple[list[str], list[Any]]:
    """The WHERE terms and arguments that pick entries of one list."""
    where = ["kind = ?", "scope = ?"]
    args: list[Any] = [kind, scope]
    if start_time is not None:
        where.append("created >= ?")
        args.append(start_time)
    if end_time is not None:
        where.append("created <= ?")
        args.append(end_time)
    if email_contains:
        # A search for a part of an address: % and _ in it are literal characters.
        literal = re.sub(r"([\\%_])", r"\\\1", email_contains.lower())
        where.append("email LIKE ? ESCAPE '\\'")
        args.append(f"%{literal}%")
    return where, args


def list_entries(
    conn: Connection,
    kind: str,
    scope: str = "",
    *,
    limit: int = 500,
    offset: int = 0,
    after_email: str | None = None,
    start_time: float | None = None,
    end_time: float | None = None,
    email_contains: str | None = None,
) -> list[Suppression]:
    """Entries of one list, newest first (or by email after a cursor, for Mailgun paging)."""
    where, args = _filters(kind, scope, start_time, end_time, email_contains)
    order = "created DESC, seq DESC"
    if after_email is not None:
        where.append("email > ?")
        args.append(after_email.lower())
        order = "email"
    rows = conn.execute(
        f"SELECT * FROM suppressions WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?",
        [*args, limit_value(conn, limit), offset],
    ).fetchall()
    return [_from_row(row) for row in rows]


def count_entries(
    conn: Connection, kind: str, scope: str = "", *, email_contains: str | None = None
) -> int:
    """How many entries of one list (whose email contains ``email_contains``, if given)."""
    where, args = _filters(kind, scope, email_contains=email_contains)
    row = conn.execute(f"SELECT COUNT(*) FROM suppressions WHERE {' AND '.join(where)}", args)
    return int(row.fetchone()[0])


def counts(conn: Connection) -> dict[tuple[str, str], int]:
    """How many entries every list holds, by (scope, kind); empty lists are left out."""
    rows = conn.execute("SELECT scope, kind, COUNT(*) FROM suppressions GROUP BY scope, kind")
    return {(scope, kind): int(count) for scope, kind, count in rows}


def suppressed_kinds(conn: Connection, email: str, scopes: tuple[str, ...] = ("",)) -> list[str]:
    """Which lists hold ``email`` in any of ``scopes`` (what the event engine checks first,
    for every recipient of every message it ingests). In a write transaction, whether the
    lists hold anything at all is read once (:mod:`~mailsandbox.storage.txmemo`; :func:`add`
    forgets it): most sandboxes have none, and then a recipient costs no statement (on
    PostgreSQL a round trip, 18 % of a replica's writer thread, bench/README.md)."""
    if txmemo.active(conn) and not txmemo.once(conn, MEMO_KEY, lambda: READ_AHEAD.read(conn)):
        return []
    marks = ",".join("?" * len(scopes))
    rows = conn.execute(
        f"SELECT DISTINCT kind FROM suppressions WHERE email = ? AND scope IN ({marks})",
        (email.strip().lower(), *scopes),
    ).fetchall()
    return [row[0] for row in rows]


def _found(cursor: Cursor) -> bool:
    return cursor.fetchone() is not None


# Whether any list holds anything, as suppressed_kinds memoizes it: read with each write
# transaction's BEGIN on PostgreSQL (the Sandbox gives it to its Database; see txmemo).
READ_AHEAD = txmemo.ReadAhead(
    MEMO_KEY, lambda conn: conn.execute("SELECT 1 FROM suppressions LIMIT 1"), _found
)
