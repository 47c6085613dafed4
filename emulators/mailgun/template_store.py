"""Stored Mailgun templates and their versions: queries (the tables: ``migrations.py``).

The tables are described by the SQLModel classes of ``tables.py`` (checked against a migrated
database by ``tests/sandbox/storage/test_schema.py``; not imported at run time).

A template belongs to a domain and has named versions (``tag``); one version is active and is
what a ``template`` send renders unless ``t:version`` picks another. Names are lower-cased,
as Mailgun does.
"""

from __future__ import annotations

import time
from typing import Any

from mailsandbox.storage.sql import Connection, Row, Sql


def get_template(conn: Connection, domain: str, name: str) -> Row | None:
    row: Row | None = conn.execute(
        "SELECT * FROM mailgun_templates WHERE domain = ? AND name = ?", (domain, name.lower())
    ).fetchone()
    return row


def list_templates(conn: Connection, domain: str, after: str, limit: int) -> list[Row]:
    return conn.execute(
        "SELECT * FROM mailgun_templates WHERE domain = ? AND name > ? ORDER BY name LIMIT ?",
        (domain, after, limit),
    ).fetchall()


def create_template(conn: Connection, domain: str, values: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO mailgun_templates (domain, name, description, created_by, created)"
        " VALUES (?, ?, ?, ?, ?)",
        (domain, values["name"], values["description"], values["created_by"], time.time()),
    )


def update_description(conn: Connection, domain: str, name: str, text: str) -> None:
    conn.execute(
        "UPDATE mailgun_templates SET description = ? WHERE domain = ? AND name = ?",
        (text, domain, name),
    )


def delete_template(conn: Connection, domain: str, name: str | None) -> int:
    """Delete one template (or all of the domain's when ``name`` is None) with its versions."""
    where, args = "domain = ?", [domain]
    if name is not None:
        where, args = "domain = ? AND name = ?", [domain, name]
    conn.execute(f"DELETE FROM mailgun_template_versions WHERE {where}", args)
    return conn.execute(f"DELETE FROM mailgun_templates WHERE {where}", args).rowcount


def get_version(conn: Connection, domain: str, name: str, tag: str | None) -> Row | None:
    """One version by tag, or the active one when ``tag`` is None."""
    sql, args = ("active = 1", []) if tag is None else ("tag = ?", [tag])
    row: Row | None = conn.execute(
        f"SELECT * FROM mailgun_template_versions WHERE domain = ? AND name = ? AND {sql}"
        " ORDER BY created DESC LIMIT 1",
        (domain, name.lower(), *args),
    ).fetchone()
    return row


def list_versions(conn: Connection, domain: str, name: str) -> list[Row]:
    return conn.execute(
        "SELECT * FROM mailgun_template_versions WHERE domain = ? AND name = ? ORDER BY created",
        (domain, name),
    ).fetchall()


_SAVE_VERSION = (
    "INSERT INTO mailgun_template_versions (domain, name, tag, template, engine, comment,"
    " active, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (domain, name, tag) DO"
    " UPDATE SET template = excluded.template, comment = excluded.comment, active = "
)
SAVE_VERSION = Sql(
    _SAVE_VERSION + "MAX(active, excluded.active)",
    postgresql=_SAVE_VERSION + "GREATEST(mailgun_template_versions.active, excluded.active)",
)


def save_version(conn: Connection, domain: str, name: str, values: dict[str, Any]) -> None:
    """Insert or update a version; an active one deactivates its siblings."""
    first = not list_versions(conn, domain, name)
    active = bool(values.get("active")) or first
    if active:
        conn.execute(
            "UPDATE mailgun_template_versions SET active = 0 WHERE domain = ? AND name = ?",
            (domain, name),
        )
    conn.execute(
        SAVE_VERSION,
        (
            domain,
            name,
            values["tag"],
            values["template"],
            values.get("engine") or "handlebars",
            values.get("comment", ""),
            int(active),
            time.time(),
        ),
    )


def delete_version(conn: Connection, domain: str, name: str, tag: str) -> bool:
    return (
        conn.execute(
            "DELETE FROM mailgun_template_versions WHERE domain = ? AND name = ? AND tag = ?",
            (domain, name, tag),
        ).rowcount
        > 0
    )
