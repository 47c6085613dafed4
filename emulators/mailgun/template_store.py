"""Stored Mailgun templates and their versions: the migration (plain SQL) and queries.

The tables are described by the SQLModel classes of ``tables.py`` (checked against a migrated
database by ``tests/sandbox/storage/test_schema.py``; not imported at run time).

A template belongs to a domain and has named versions (``tag``); one version is active and is
what a ``template`` send renders unless ``t:version`` picks another. Names are lower-cased,
as Mailgun does.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from mailsandbox.storage.db import Migration
from mailsandbox.storage.migrations import run_statements


def _0001(conn: sqlite3.Connection) -> None:
    run_statements(
        conn,
        """CREATE TABLE mailgun_templates (
            seq INTEGER NOT NULL, domain VARCHAR NOT NULL, name VARCHAR NOT NULL,
            description VARCHAR NOT NULL, created_by VARCHAR NOT NULL, created FLOAT NOT NULL,
            PRIMARY KEY (seq))""",
        "CREATE INDEX ix_mailgun_templates_domain ON mailgun_templates (domain)",
        """CREATE TABLE mailgun_template_versions (
            seq INTEGER NOT NULL, domain VARCHAR NOT NULL, name VARCHAR NOT NULL,
            tag VARCHAR NOT NULL, template VARCHAR NOT NULL, engine VARCHAR NOT NULL,
            comment VARCHAR NOT NULL, active BOOLEAN NOT NULL, created FLOAT NOT NULL,
            PRIMARY KEY (seq))""",
        "CREATE INDEX ix_mailgun_template_versions_domain ON mailgun_template_versions (domain)",
        "CREATE UNIQUE INDEX ux_mailgun_templates ON mailgun_templates (domain, name)",
        "CREATE UNIQUE INDEX ux_mailgun_template_versions"
        " ON mailgun_template_versions (domain, name, tag)",
    )


MIGRATIONS = [Migration("mailgun.0001_templates", _0001)]


def get_template(conn: sqlite3.Connection, domain: str, name: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM mailgun_templates WHERE domain = ? AND name = ?", (domain, name.lower())
    ).fetchone()
    return row


def list_templates(
    conn: sqlite3.Connection, domain: str, after: str, limit: int
) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM mailgun_templates WHERE domain = ? AND name > ? ORDER BY name LIMIT ?",
        (domain, after, limit),
    ).fetchall()


def create_template(conn: sqlite3.Connection, domain: str, values: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO mailgun_templates (domain, name, description, created_by, created)"
        " VALUES (?, ?, ?, ?, ?)",
        (domain, values["name"], values["description"], values["created_by"], time.time()),
    )


def update_description(conn: sqlite3.Connection, domain: str, name: str, text: str) -> None:
    conn.execute(
        "UPDATE mailgun_templates SET description = ? WHERE domain = ? AND name = ?",
        (text, domain, name),
    )


def delete_template(conn: sqlite3.Connection, domain: str, name: str | None) -> int:
    """Delete one template (or all of the domain's when ``name`` is None) with its versions."""
    where, args = "domain = ?", [domain]
    if name is not None:
        where, args = "domain = ? AND name = ?", [domain, name]
    conn.execute(f"DELETE FROM mailgun_template_versions WHERE {where}", args)
    return conn.execute(f"DELETE FROM mailgun_templates WHERE {where}", args).rowcount


def get_version(
    conn: sqlite3.Connection, domain: str, name: str, tag: str | None
) -> sqlite3.Row | None:
    """One version by tag, or the active one when ``tag`` is None."""
    sql, args = ("active = 1", []) if tag is None else ("tag = ?", [tag])
    row: sqlite3.Row | None = conn.execute(
        f"SELECT * FROM mailgun_template_versions WHERE domain = ? AND name = ? AND {sql}"
        " ORDER BY created DESC LIMIT 1",
        (domain, name.lower(), *args),
    ).fetchone()
    return row


def list_versions(conn: sqlite3.Connection, domain: str, name: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM mailgun_template_versions WHERE domain = ? AND name = ? ORDER BY created",
        (domain, name),
    ).fetchall()


def save_version(conn: sqlite3.Connection, domain: str, name: str, values: dict[str, Any]) -> None:
    """Insert or update a version; an active one deactivates its siblings."""
    first = not list_versions(conn, domain, name)
    active = bool(values.get("active")) or first
    if active:
        conn.execute(
            "UPDATE mailgun_template_versions SET active = 0 WHERE domain = ? AND name = ?",
            (domain, name),
        )
    conn.execute(
        "INSERT INTO mailgun_template_versions (domain, name, tag, template, engine, comment,"
        " active, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (domain, name, tag) DO"
        " UPDATE SET template = excluded.template, comment = excluded.comment,"
        " active = MAX(active, excluded.active)",
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


def delete_version(conn: sqlite3.Connection, domain: str, name: str, tag: str) -> bool:
    return (
        conn.execute(
            "DELETE FROM mailgun_template_versions WHERE domain = ? AND name = ? AND tag = ?",
            (domain, name, tag),
        ).rowcount
        > 0
    )
