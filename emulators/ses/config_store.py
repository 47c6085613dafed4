"""SES configuration sets, their event destinations, and the account's sending settings.

One store for v1 and v2 (SES keeps one). An event destination is kept with its matching event
types in v2 spelling (``SEND``, ``DELIVERY``...) and, when it has one, its SNS topic: the only
kind of destination the sandbox delivers to (CloudWatch, Firehose, EventBridge and Pinpoint
destinations are stored and listed, never fed).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from mailsandbox.storage.sql import Connection

EVENT_TYPES = (
    "SEND",
    "REJECT",
    "BOUNCE",
    "COMPLAINT",
    "DELIVERY",
    "OPEN",
    "CLICK",
    "RENDERING_FAILURE",
    "DELIVERY_DELAY",
    "SUBSCRIPTION",
)


@dataclass
class Destination:
    name: str
    enabled: bool
    event_types: list[str]
    topic_arn: str = ""
    definition: dict[str, Any] = field(default_factory=dict)


def get_set(conn: Connection, name: str) -> dict[str, Any] | None:
    """The options of configuration set ``name`` (v2 shape), or None if there is none."""
    row = conn.execute(
        "SELECT options_json FROM ses_configuration_sets WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else dict(json.loads(row[0] or "{}"))


def create_set(conn: Connection, name: str, options: dict[str, Any]) -> bool:
    cursor = conn.execute(
        "INSERT INTO ses_configuration_sets (name, created, options_json)"
        " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (name, round(time.time(), 3), json.dumps(options)),
    )
    return cursor.rowcount > 0


def update_set(conn: Connection, name: str, options: dict[str, Any]) -> bool:
    cursor = conn.execute(
        "UPDATE ses_configuration_sets SET options_json = ? WHERE name = ?",
        (json.dumps(options), name),
    )
    return cursor.rowcount > 0


def delete_set(conn: Connection, name: str) -> bool:
    conn.execute("DELETE FROM ses_event_destinations WHERE config_set = ?", (name,))
    return conn.execute("DELETE FROM ses_configuration_sets WHERE name = ?", (name,)).rowcount > 0


def set_names(conn: Connection, after: str, limit: int) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM ses_configuration_sets WHERE name > ? ORDER BY name LIMIT ?",
        (after, limit),
    ).fetchall()
    return [row[0] for row in rows]


def destinations(conn: Connection, config_set: str) -> list[Destination]:
    rows = conn.execute(
        "SELECT * FROM ses_event_destinations WHERE config_set = ? ORDER BY seq", (config_set,)
    ).fetchall()
    return [
        Destination(
            row["name"],
            bool(row["enabled"]),
            json.loads(row["event_types_json"]),
            row["topic_arn"],
            json.loads(row["definition_json"]),
        )
        for row in rows
    ]


def save_destination(conn: Connection, config_set: str, dest: Destination) -> None:
    """Insert or replace the destination of that name."""
    values = (
        int(dest.enabled),
        json.dumps(dest.event_types),
        dest.topic_arn,
        json.dumps(dest.definition),
        config_set,
        dest.name,
    )
    updated = conn.execute(
        "UPDATE ses_event_destinations SET enabled = ?, event_types_json = ?, topic_arn = ?,"
        " definition_json = ? WHERE config_set = ? AND name = ?",
        values,
    ).rowcount
    if not updated:
        conn.execute(
            "INSERT INTO ses_event_destinations (enabled, event_types_json, topic_arn,"
            " definition_json, config_set, name) VALUES (?, ?, ?, ?, ?, ?)",
            values,
        )


def delete_destination(conn: Connection, config_set: str, name: str) -> bool:
    cursor = conn.execute(
        "DELETE FROM ses_event_destinations WHERE config_set = ? AND name = ?", (config_set, name)
    )
    return cursor.rowcount > 0


def topics_for(conn: Connection, config_set: str, event_type: str) -> list[str]:
    """SNS topics of the enabled destinations of ``config_set`` that publish ``event_type``."""
    return [
        d.topic_arn
        for d in destinations(conn, config_set)
        if d.enabled and d.topic_arn and event_type in d.event_types
    ]


def account(conn: Connection, key: str, default: Any) -> Any:
    row = conn.execute("SELECT value_json FROM ses_account WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def set_account(conn: Connection, key: str, value: Any) -> None:
    conn.execute(
        "INSERT INTO ses_account (key, value_json) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json",
        (key, json.dumps(value)),
    )
