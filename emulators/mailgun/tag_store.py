"""A domain's Mailgun tags: the ``o:tag`` values of the messages it sent (first and last seen),
plus what ``PUT``/``DELETE /v3/{domain}/tags/{tag}`` change (a description; a deletion, which
hides the tag until a message uses it again: "the statistics for the tag are not destroyed").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from mailsandbox.storage.sql import Connection

SEEN_SQL = """
SELECT t.value AS tag, MIN(m.created) AS first_seen, MAX(m.created) AS last_seen
FROM messages m, json_each(m.metadata_json, '$.mailgun.tags') t
WHERE json_extract(m.metadata_json, '$.mailgun.domain') = ? {extra}
GROUP BY t.value ORDER BY t.value
"""


@dataclass(frozen=True)
class Tag:
    tag: str
    description: str
    first_seen: float
    last_seen: float


def tags(conn: Connection, domain: str, only: str | None = None) -> list[Tag]:
    """The domain's tags, by name (``only``: that one tag)."""
    extra, args = ("AND t.value = ?", [domain, only]) if only is not None else ("", [domain])
    notes = {
        row["tag"]: row
        for row in conn.execute(
            "SELECT tag, description, deleted FROM mailgun_tags WHERE domain = ?", (domain,)
        )
    }
    out = []
    for row in conn.execute(SEEN_SQL.format(extra=extra), args):
        note = notes.get(row["tag"])
        if note is not None and note["deleted"] >= row["last_seen"]:
            continue  # deleted, and not used since
        description = note["description"] if note is not None else ""
        out.append(Tag(row["tag"], description, row["first_seen"], row["last_seen"]))
    return out


def describe(conn: Connection, domain: str, tag: str, description: str) -> None:
    conn.execute(
        "INSERT INTO mailgun_tags (domain, tag, description, deleted) VALUES (?, ?, ?, 0)"
        " ON CONFLICT (domain, tag) DO UPDATE SET description = excluded.description",
        (domain, tag, description),
    )


def delete(conn: Connection, domain: str, tag: str) -> None:
    conn.execute(
        "INSERT INTO mailgun_tags (domain, tag, description, deleted) VALUES (?, ?, '', ?)"
        " ON CONFLICT (domain, tag) DO UPDATE SET deleted = excluded.deleted, description = ''",
        (domain, tag, time.time()),
    )
