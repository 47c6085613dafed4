"""Resend's stored resources (``resend_resources``: domains, API keys, templates) and the API
keys created through ``/api-keys``, kept in memory for the key check of every request.

Apart from the routes that serve them (``account_api``, ``templates_api``, imported at the
first Resend request) because the keys are loaded at start-up (``install()``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mailsandbox.emulators.resend.wire import CREATED_KEYS
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.sql import Connection


@dataclass
class Resource:
    id: str
    kind: str
    name: str
    data: dict[str, Any]
    created: float


def resources(conn: Connection, kind: str) -> list[Resource]:
    rows = conn.execute(
        "SELECT * FROM resend_resources WHERE kind = ? ORDER BY created DESC", (kind,)
    ).fetchall()
    return [
        Resource(r["id"], r["kind"], r["name"], json.loads(r["data_json"]), r["created"])
        for r in rows
    ]


def save(conn: Connection, item: Resource) -> None:
    conn.execute(
        "INSERT INTO resend_resources (id, kind, name, data_json, created)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind,"
        " name = excluded.name, data_json = excluded.data_json, created = excluded.created",
        (item.id, item.kind, item.name, json.dumps(item.data), item.created),
    )


def delete_resource(conn: Connection, kind: str, item_id: str) -> bool:
    cursor = conn.execute("DELETE FROM resend_resources WHERE kind = ? AND id = ?", (kind, item_id))
    return cursor.rowcount > 0


def created_keys(sandbox: Sandbox) -> set[str]:
    found: set[str] = sandbox.extensions.setdefault(CREATED_KEYS, set())
    return found


async def load_keys(sandbox: Sandbox) -> None:
    """At start (and when another replica changed them): the keys created through the API
    (accepted like configured ones)."""
    found = await sandbox.db.read(lambda conn: resources(conn, "api_key"))
    keys = created_keys(sandbox)
    keys.clear()
    keys.update(str(k.data.get("token")) for k in found)
