"""Transactional templates: plain store functions (the tables: ``migrations.py``).

The tables are described by the SQLModel classes of ``tables.py`` (checked against a migrated
database by ``tests/sandbox/storage/test_schema.py``; not imported at run time).

A template (``d-<32 hex>`` for dynamic, a UUID for legacy) owns versions; at most one version
is active and that is the one a send renders (the newest one when none is marked active).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mailsandbox.storage.sql import Connection, Row


@dataclass
class Version:
    id: str
    template_id: str
    name: str = ""
    subject: str = ""
    html_content: str = ""
    plain_content: str = ""
    generate_plain_content: bool = True
    editor: str = "code"
    test_data: str = ""
    active: int = 0
    updated: float = 0.0


# What a client may set on a version: everything but the ids and the timestamp.
VERSION_FIELDS = tuple(
    f.name for f in fields(Version) if f.name not in {"id", "template_id", "updated"}
)


@dataclass
class Template:
    id: str
    name: str
    generation: str
    updated: float
    versions: list[Version] = field(default_factory=list)

    def active_version(self) -> Version | None:
        active = [v for v in self.versions if v.active]
        pool = active or self.versions
        return max(pool, key=lambda v: v.updated) if pool else None


def new_template_id(generation: str) -> str:
    return f"d-{uuid.uuid4().hex}" if generation == "dynamic" else str(uuid.uuid4())


def _version(row: Row) -> Version:
    data = {k: row[k] for k in row.keys()}  # noqa: SIM118 - Row has no items()
    data["generate_plain_content"] = bool(data["generate_plain_content"])
    return Version(**data)


def get(conn: Connection, template_id: str) -> Template | None:
    row = conn.execute("SELECT * FROM sendgrid_templates WHERE id = ?", (template_id,)).fetchone()
    if row is None:
        return None
    versions = conn.execute(
        "SELECT * FROM sendgrid_template_versions WHERE template_id = ? ORDER BY updated",
        (template_id,),
    ).fetchall()
    return Template(
        row["id"], row["name"], row["generation"], row["updated"], [_version(v) for v in versions]
    )


def list_templates(conn: Connection, generations: list[str]) -> list[Template]:
    marks = ",".join("?" * len(generations))
    rows = conn.execute(
        f"SELECT id FROM sendgrid_templates WHERE generation IN ({marks}) ORDER BY updated DESC",
        generations,
    ).fetchall()
    return [t for t in (get(conn, row[0]) for row in rows) if t is not None]


def save_template(conn: Connection, template: Template) -> Template:
    template.updated = time.time()
    conn.execute(
        "INSERT INTO sendgrid_templates (id, name, generation, updated) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated = excluded.updated",
        (template.id, template.name, template.generation, template.updated),
    )
    return template


def delete_template(conn: Connection, template_id: str) -> bool:
    conn.execute("DELETE FROM sendgrid_template_versions WHERE template_id = ?", (template_id,))
    return conn.execute("DELETE FROM sendgrid_templates WHERE id = ?", (template_id,)).rowcount > 0


def save_version(conn: Connection, version: Version) -> Version:
    """Insert or update a version; an active one deactivates its siblings."""
    version.updated = time.time()
    if version.active:
        conn.execute(
            "UPDATE sendgrid_template_versions SET active = 0 WHERE template_id = ? AND id != ?",
            (version.template_id, version.id),
        )
    data: dict[str, Any] = asdict(version)
    columns = ", ".join(data)
    updates = ", ".join(f"{k} = excluded.{k}" for k in data if k != "id")
    conn.execute(
        f"INSERT INTO sendgrid_template_versions ({columns}) VALUES ({','.join('?' * len(data))})"
        f" ON CONFLICT (id) DO UPDATE SET {updates}",
        list(data.values()),
    )
    conn.execute(
        "UPDATE sendgrid_templates SET updated = ? WHERE id = ?",
        (version.updated, version.template_id),
    )
    return version


def delete_version(conn: Connection, template_id: str, version_id: str) -> bool:
    return (
        conn.execute(
            "DELETE FROM sendgrid_template_versions WHERE template_id = ? AND id = ?",
            (template_id, version_id),
        ).rowcount
        > 0
    )
