"""SendGrid unsubscribe groups (ASM, "Advanced Suppression Manager"): the groups table, and the
group suppressions, which are entries of the shared suppression lists (kind
``group_unsubscribe``, scope ``asm:<group id>``) so the event engine drops a send with
``asm.group_id`` to an address that unsubscribed from that group.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from mailsandbox.storage import suppressions
from mailsandbox.storage.sql import Connection, Row

KIND = "group_unsubscribe"


def scope(group_id: int) -> str:
    """The suppression scope of a group's unsubscribes."""
    return f"asm:{group_id}"


@dataclass
class Group:
    id: int
    name: str
    description: str
    is_default: bool
    unsubscribes: int = 0


def _group(conn: Connection, row: Row) -> Group:
    count = suppressions.count_entries(conn, KIND, scope(row["id"]))
    return Group(row["id"], row["name"], row["description"], bool(row["is_default"]), count)


def groups(conn: Connection) -> list[Group]:
    rows = conn.execute("SELECT * FROM sendgrid_asm_groups ORDER BY id").fetchall()
    return [_group(conn, row) for row in rows]


def get(conn: Connection, group_id: int) -> Group | None:
    row = conn.execute("SELECT * FROM sendgrid_asm_groups WHERE id = ?", (group_id,)).fetchone()
    return _group(conn, row) if row else None


def save(conn: Connection, group: Group) -> Group:
    """Insert (``id`` 0) or update a group; a default group makes the others not default."""
    if group.is_default:
        conn.execute("UPDATE sendgrid_asm_groups SET is_default = 0")
    values = (group.name, group.description, int(group.is_default))
    if group.id:
        conn.execute(
            "UPDATE sendgrid_asm_groups SET name = ?, description = ?, is_default = ? WHERE id = ?",
            (*values, group.id),
        )
    else:
        cursor = conn.execute(
            "INSERT INTO sendgrid_asm_groups (name, description, is_default, created)"
            " VALUES (?, ?, ?, ?)",
            (*values, time.time()),
        )
        group.id = int(cursor.lastrowid or 0)
    return group


def delete(conn: Connection, group_id: int) -> bool:
    """Delete a group and its unsubscribes."""
    suppressions.clear(conn, KIND, scope(group_id))
    cursor = conn.execute("DELETE FROM sendgrid_asm_groups WHERE id = ?", (group_id,))
    return cursor.rowcount > 0


def unsubscribed(conn: Connection, group_id: int) -> list[suppressions.Suppression]:
    return suppressions.list_entries(conn, KIND, scope(group_id), limit=-1)
