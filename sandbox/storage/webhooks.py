"""Webhook endpoints the app configured (SendGrid event webhooks, Mailgun domain webhooks, the
generic new-message webhook). The emulators' settings APIs write them; the dispatcher reads them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from mailsandbox import ids
from mailsandbox.storage.sql import Connection, Row


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
    return conn.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).rowcount > 0


def get(conn: Connection, endpoint_id: str) -> WebhookEndpoint | None:
    row = conn.execute("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).fetchone()
    return _from_row(row) if row else None


def list_endpoints(
    conn: Connection, provider: str | None = None, scope: str | None = None
) -> list[WebhookEndpoint]:
    where: list[str] = []
    args: list[Any] = []
    if provider is not None:
        where.append("provider = ?")
        args.append(provider)
    if scope is not None:
        where.append("scope = ?")
        args.append(scope)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(f"SELECT * FROM webhook_endpoints {clause} ORDER BY seq", args).fetchall()
    return [_from_row(row) for row in rows]
