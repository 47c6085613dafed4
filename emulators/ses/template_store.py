"""SES email templates (one store for v1 ``CreateTemplate`` and v2 ``CreateEmailTemplate``, as
in SES itself): a name, a subject, a text and an HTML part."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from mailsandbox.storage.sql import Connection


@dataclass
class Template:
    name: str
    subject: str = ""
    text: str = ""
    html: str = ""
    created: float = 0.0
    tags: list[dict[str, str]] = field(default_factory=list)


def get(conn: Connection, name: str) -> Template | None:
    row = conn.execute("SELECT * FROM ses_templates WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    return Template(
        row["name"],
        row["subject"],
        row["text"],
        row["html"],
        row["created"],
        json.loads(row["tags_json"] or "[]"),
    )


def create(conn: Connection, template: Template) -> bool:
    """Insert; False when the name is taken."""
    template.created = template.created or round(time.time(), 3)
    cursor = conn.execute(
        "INSERT INTO ses_templates (name, subject, text, html, created, tags_json)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            template.name,
            template.subject,
            template.text,
            template.html,
            template.created,
            json.dumps(template.tags),
        ),
    )
    return cursor.rowcount > 0


def update(conn: Connection, template: Template) -> bool:
    cursor = conn.execute(
        "UPDATE ses_templates SET subject = ?, text = ?, html = ? WHERE name = ?",
        (template.subject, template.text, template.html, template.name),
    )
    return cursor.rowcount > 0


def delete(conn: Connection, name: str) -> bool:
    return conn.execute("DELETE FROM ses_templates WHERE name = ?", (name,)).rowcount > 0


def names(conn: Connection, after: str, limit: int) -> list[tuple[str, float]]:
    """``(name, created)`` in name order after the cursor ``after``."""
    rows = conn.execute(
        "SELECT name, created FROM ses_templates WHERE name > ? ORDER BY name LIMIT ?",
        (after, limit),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]
