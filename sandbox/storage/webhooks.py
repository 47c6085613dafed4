"""Webhook endpoints the app configured (SendGrid event webhooks, Mailgun domain webhooks, the
generic new-message webhook). The emulators' settings APIs write them; the dispatcher reads them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from mailsandbox import ids
from mailsandbox.storage import txmemo
from mailsandbox.storage.sql import Connection, Cursor, Row

MEMO_KEY = "webhook_endpoints"  # (see list_endpoints)


@dataclass
class WebhookEndpoint:
    provider: str  # sendgrid | mailgun | generic
    url: str
    events: list[str] = field(default_factory=list)  # provider's own event names
    scope: str = ""  # Mailgun domain
    enabled: bool = True
    signed: bool = False
    friendly_name: str = ""
    id: str = ""
    created: float = 0.0
    updated: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


def _from_row(row: Row) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row["id"],
        provider=row["provider"],
        scope=row["scope"],
        url=row["url"],
        events=json.loads(row["events_json"] or "[]"),
        enabled=bool(row["enabled"]),
        signed=bool(row["signed"]),
        friendly_name=row["friendly_name"],
        created=row["created"],
        updated=row["updated"],
        details=json.loads(row["details_json"] or "{}"),
    )


def save(conn: Connection, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Insert (when ``id`` is empty) or update an endpoint."""
    now = round(time.time(), 3)
    endpoint.updated = now
    values = (
        endpoint.provider,
        endpoint.scope,
        endpoint.url,
        json.dumps(endpoint.events),
        int(endpoint.enabled),
        int(endpoint.signed),
        endpoint.friendly_name,
        endpoint.updated,
        json.dumps(endpoint.details),
    )
    txmemo.forget(conn, MEMO_KEY)
    if endpoint.id and get(conn, endpoint.id) is not None:
        conn.execute(
            "UPDATE webhook_endpoints SET provider = ?, scope = ?, url = ?, events_json = ?,"
            " enabled = ?, signed = ?, friendly_name = ?, updated = ?, details_json = ?"
            " WHERE id = ?",
            (*values, endpoint.id),
        )
        return endpoint
    endpoint.id = endpoint.id or ids.new_id()
    endpoint.created = now
    conn.execute(
        "INSERT INTO webhook_endpoints (provider, scope, url, events_json, enabled, signed,"
        " friendly_name, updated, details_json, id, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*values, endpoint.id, endpoint.created),
    )
    return endpoint


def delete(conn: Connection, endpoint_id: str) -> bool:
    txmemo.forget(conn, MEMO_KEY)
    return conn.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).rowcount > 0


def get(conn: Connection, endpoint_id: str) -> WebhookEndpoint | None:
    row = conn.execute("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).fetchone()
    return _from_row(row) if row else None


def list_endpoints(
    conn: Connection, provider: str | None = None, scope: str | None = None
) -> list[WebhookEndpoint]:
    """The endpoints (of ``provider``, of ``scope``) in the order they were created. In a write
    transaction the table is read once (see :mod:`mailsandbox.storage.txmemo`: ingest asks
    for every message); each call gets endpoints of its own to change."""
    rows = txmemo.once(conn, MEMO_KEY, lambda: READ_AHEAD.read(conn))
    return [
        _from_row(row)
        for row in rows
        if (provider is None or row["provider"] == provider)
        and (scope is None or row["scope"] == scope)
    ]


def _all_rows(cursor: Cursor) -> list[Row]:
    return cursor.fetchall()


# Every endpoint, as list_endpoints memoizes them: read with each write transaction's BEGIN
# on PostgreSQL (the Sandbox gives it to its Database; see txmemo.ReadAhead).
READ_AHEAD = txmemo.ReadAhead(
    MEMO_KEY, lambda conn: conn.execute("SELECT * FROM webhook_endpoints ORDER BY seq"), _all_rows
)
