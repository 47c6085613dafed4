"""SendGrid batch ids (``/v3/mail/batch``) and the pause/cancel status of scheduled sends
(``/v3/user/scheduled_sends``): two small tables, and the messages a batch id groups."""

from __future__ import annotations

import secrets
import string
import time

from mailsandbox.storage.sql import Connection

STATUSES = ("pause", "cancel")
_ALPHABET = string.ascii_letters + string.digits


def create(conn: Connection) -> str:
    """A new batch id: 32 letters and digits, like ``HkJ5yLYULb7Rj8GKSx7u025ouWVlMgAi``."""
    batch_id = "".join(secrets.choice(_ALPHABET) for _ in range(32))
    conn.execute(
        "INSERT INTO sendgrid_batches (batch_id, created) VALUES (?, ?)", (batch_id, time.time())
    )
    return batch_id


def exists(conn: Connection, batch_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM sendgrid_batches WHERE batch_id = ?", (batch_id,))
    return row.fetchone() is not None


def status(conn: Connection, batch_id: str) -> str:
    """``pause``, ``cancel`` or '' (none)."""
    row = conn.execute(
        "SELECT status FROM sendgrid_scheduled_sends WHERE batch_id = ?", (batch_id,)
    ).fetchone()
    return str(row[0]) if row else ""


def statuses(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT batch_id, status FROM sendgrid_scheduled_sends ORDER BY updated")
    return [(str(b), str(s)) for b, s in rows]


def set_status(conn: Connection, batch_id: str, value: str) -> None:
    conn.execute(
        "INSERT INTO sendgrid_scheduled_sends (batch_id, status, updated) VALUES (?, ?, ?)"
        " ON CONFLICT (batch_id) DO UPDATE SET status = excluded.status,"
        " updated = excluded.updated",
        (batch_id, value, time.time()),
    )


def clear_status(conn: Connection, batch_id: str) -> bool:
    cursor = conn.execute("DELETE FROM sendgrid_scheduled_sends WHERE batch_id = ?", (batch_id,))
    return cursor.rowcount > 0


def message_ids(conn: Connection, batch_id: str) -> list[str]:
    """The stored messages sent with this batch id."""
    rows = conn.execute(
        "SELECT id FROM messages WHERE json_extract(metadata_json, '$.sendgrid.batch_id') = ?",
        (batch_id,),
    )
    return [str(row[0]) for row in rows]
