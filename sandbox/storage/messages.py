"""Message storage: the rows of one message written together, and the reads every view shares.

Write functions take the writer's ``sqlite3.Connection`` (they run inside its transaction);
read functions take a reader connection. Nothing here knows about HTTP or JSON shapes: the
API turns :class:`MessageSummary` into Mailpit's wire format.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailsandbox.logins import Visible
from mailsandbox.mime import Address, ParsedMessage, PartInfo


@dataclass
class NewMessage:
    """Everything ingest decided about a message, ready to be written."""

    id: str
    created: float
    raw: bytes
    parsed: ParsedMessage
    mail_from: str
    recipients: list[str]
    source: str
    username: str
    inbox: str
    tags: list[str]
    metadata: dict[str, Any]
    parse_error: str = ""
    # Set while it is written, for the write hooks that follow: its summary (built once, see
    # ``mailsandbox.ingest.summary_of``) and the delivery events written with it so far.
    summary: MessageSummary | None = None
    events: list[Any] = field(default_factory=list)


@dataclass
class MessageSummary:
    """The list-view shape of a stored message (Mailpit's MessageSummary plus our fields)."""

    id: str
    message_id: str
    read: bool
    from_: Address
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    subject: str
    created: float
    username: str
    tags: list[str]
    size: int
    attachments: int
    snippet: str
    inbox: str = "default"
    source: str = "smtp"
    mail_from: str = ""
    recipients: list[str] = field(default_factory=list)
    return_path: str = ""
    date: str = ""
    inlines: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    parse_error: str = ""
    seq: int = 0


def _addresses_json(addresses: Sequence[Address]) -> str:
    return json.dumps([a.as_json() for a in addresses], ensure_ascii=False)


def _addresses(text: str) -> list[Address]:
    return [Address(a.get("Name", ""), a.get("Address", "")) for a in json.loads(text or "[]")]


# --- writes ------------------------------------------------------------------------------
INSERT_MESSAGE = """
INSERT INTO messages (id, created, inbox, source, username, mail_from, recipients, message_id,
    from_json, to_json, cc_json, bcc_json, reply_to_json, return_path, subject, date, size,
    snippet, attachments, inlines, read, metadata_json, parse_error)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
"""
INSERT_RAW = "INSERT INTO message_raw (seq, raw) VALUES (?, ?)"
INSERT_FTS = "INSERT INTO messages_fts (rowid, search_text) VALUES (?, ?)"


def insert_message(conn: sqlite3.Connection, msg: NewMessage, *, index: bool = True) -> int:
    """Write a message with its raw bytes, parts, tags and search text; returns its seq.

    With ``index=False`` no search-index row is written (ingest leaves that to
    :mod:`mailsandbox.indexer`, which inserts it a few milliseconds later).
    """
    p = msg.parsed
    cursor = conn.execute(
        INSERT_MESSAGE,
        (
            msg.id,
            msg.created,
            msg.inbox,
            msg.source,
            msg.username,
            msg.mail_from,
            json.dumps(msg.recipients, ensure_ascii=False),
            p.message_id,
            json.dumps(p.from_.as_json(), ensure_ascii=False),
            _addresses_json(p.to),
            _addresses_json(p.cc),
            _addresses_json(p.bcc),
            _addresses_json(p.reply_to),
            p.return_path,
            p.subject,
            p.date.isoformat() if p.date else "",
            len(msg.raw),
            p.snippet,
            len(p.attachments),
            len(p.inlines),
            json.dumps(msg.metadata, ensure_ascii=False, default=str),
            msg.parse_error,
        ),
    )
    seq = cursor.lastrowid
    assert seq is not None
    conn.execute(INSERT_RAW, (seq, msg.raw))
    if p.parts:
        conn.executemany(
            "INSERT INTO message_parts (message_seq, part_id, filename, content_type, content_id,"
            " disposition, size, md5, sha1, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    seq,
                    part.part_id,
                    part.filename,
                    part.content_type,
                    part.content_id,
                    part.disposition,
                    part.size,
                    part.md5,
                    part.sha1,
                    part.sha256,
                )
                for part in p.parts
            ],
        )
    if msg.tags:
        conn.executemany(
            "INSERT OR IGNORE INTO message_tags (message_seq, tag) VALUES (?, ?)",
            [(seq, tag) for tag in msg.tags],
        )
    if index:
        conn.execute(INSERT_FTS, (seq, p.search_text))
    return seq


def delete_by_seqs(conn: sqlite3.Connection, seqs: Sequence[int]) -> None:
    """Delete messages and everything hanging off them."""
    for start in range(0, len(seqs), 500):
        chunk = list(seqs[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for table, column in (
            ("message_raw", "seq"),
            ("message_parts", "message_seq"),
            ("message_tags", "message_seq"),
            ("messages_fts", "rowid"),
            ("messages", "seq"),
        ):
            conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)


def update_metadata(conn: sqlite3.Connection, message_id: str, metadata: dict[str, Any]) -> bool:
    """Replace a message's ESP metadata (an emulator records a later change, such as a new
    send time); False when there is no such message."""
    cursor = conn.execute(
        "UPDATE messages SET metadata_json = ? WHERE id = ?", (json.dumps(metadata), message_id)
    )
    return cursor.rowcount > 0


def delete_all(conn: sqlite3.Connection) -> None:
    for table in ("message_raw", "message_parts", "message_tags", "messages_fts", "messages"):
        conn.execute(f"DELETE FROM {table}")


def prune(conn: sqlite3.Connection, max_messages: int, min_created: float | None) -> list[str]:
    """Drop the oldest messages beyond ``max_messages`` and those created before ``min_created``."""
    victims: list[tuple[int, str]] = []
    if max_messages > 0:
        victims += conn.execute(
            "SELECT seq, id FROM messages ORDER BY created DESC, seq DESC LIMIT -1 OFFSET ?",
            (max_messages,),
        ).fetchall()
    if min_created is not None:
        victims += conn.execute(
            "SELECT seq, id FROM messages WHERE created < ?", (min_created,)
        ).fetchall()
    unique = {seq: mid for seq, mid in victims}
    delete_by_seqs(conn, list(unique))
    return list(unique.values())


# --- reads -------------------------------------------------------------------------------
SUMMARY_COLUMNS = (
    "seq, id, message_id, read, from_json, to_json, cc_json, bcc_json, reply_to_json, subject,"
    " created, username, size, attachments, inlines, snippet, inbox, source, mail_from,"
    " recipients, return_path, date, metadata_json, parse_error"
)


def tags_for(conn: sqlite3.Connection, seqs: Iterable[int]) -> dict[int, list[str]]:
    seq_list = list(seqs)
    result: dict[int, list[str]] = {seq: [] for seq in seq_list}
    if not seq_list:
        return result
    marks = ",".join("?" * len(seq_list))
    for seq, tag in conn.execute(
        f"SELECT message_seq, tag FROM message_tags WHERE message_seq IN ({marks})"
        " ORDER BY tag COLLATE NOCASE",
        seq_list,
    ):
        result[seq].append(tag)
    return result


def summaries_from_rows(
    conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]
) -> list[MessageSummary]:
    tags = tags_for(conn, (row["seq"] for row in rows))
    return [
        MessageSummary(
            seq=row["seq"],
            id=row["id"],
            message_id=row["message_id"],
            read=bool(row["read"]),
            from_=Address(**{k.lower(): v for k, v in json.loads(row["from_json"]).items()}),
            to=_addresses(row["to_json"]),
            cc=_addresses(row["cc_json"]),
            bcc=_addresses(row["bcc_json"]),
            reply_to=_addresses(row["reply_to_json"]),
            subject=row["subject"],
            created=row["created"],
            username=row["username"],
            tags=tags[row["seq"]],
            size=row["size"],
            attachments=row["attachments"],
            inlines=row["inlines"],
            snippet=row["snippet"],
            inbox=row["inbox"],
            source=row["source"],
            mail_from=row["mail_from"],
            recipients=json.loads(row["recipients"] or "[]"),
            return_path=row["return_path"],
            date=row["date"],
            metadata=json.loads(row["metadata_json"] or "{}"),
            parse_error=row["parse_error"],
        )
        for row in rows
    ]


def visible_sql(visible: Visible, column: str = "inbox") -> tuple[str, list[str]]:
    """A condition on ``column`` that keeps the ``visible`` inboxes (``1`` for all)."""
    if visible is None:
        return "1", []
    names = sorted(visible)
    return (f"{column} IN ({','.join('?' * len(names))})", names) if names else ("0", [])


def get_summary(
    conn: sqlite3.Connection, message_id: str, visible: Visible = None
) -> MessageSummary | None:
    """The message ``message_id``, if it is in a ``visible`` inbox."""
    where, args = visible_sql(visible)
    found = summaries_where(conn, f"id = ? AND {where}", (message_id, *args))
    return found[0] if found else None


def summaries_where(
    conn: sqlite3.Connection,
    where: str,
    args: Sequence[Any] = (),
    *,
    order: str = "created DESC, seq DESC",
    limit: int = -1,
) -> list[MessageSummary]:
    """Summaries of the messages matching an SQL condition (newest first by default; the
    emulators look up their stored messages by provider ids this way)."""
    rows = conn.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM messages WHERE {where} ORDER BY {order} LIMIT ?",
        (*args, limit),
    )
    return summaries_from_rows(conn, rows.fetchall())


def latest_id(conn: sqlite3.Connection, visible: Visible = None) -> str | None:
    where, args = visible_sql(visible)
    row = conn.execute(
        f"SELECT id FROM messages WHERE {where} ORDER BY created DESC, seq DESC LIMIT 1", args
    ).fetchone()
    return row[0] if row else None


def list_summaries(
    conn: sqlite3.Connection,
    *,
    start: int = 0,
    limit: int = 50,
    inbox: str | None = None,
    visible: Visible = None,
) -> list[MessageSummary]:
    where, args = visible_sql(visible)
    if inbox is not None:
        where, args = f"inbox = ? AND {where}", [inbox, *args]
    rows = conn.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM messages WHERE {where}"
        " ORDER BY created DESC, seq DESC LIMIT ? OFFSET ?",
        [*args, limit, start],
    ).fetchall()
    return summaries_from_rows(conn, rows)


def counts(conn: sqlite3.Connection, visible: Visible = None) -> tuple[int, int]:
    """(total, unread)."""
    if visible is not None:
        where, args = visible_sql(visible)
        row = conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM(read = 0), 0) FROM messages WHERE {where}", args
        ).fetchone()
        return int(row[0]), int(row[1])
    row = conn.execute(
        "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM messages WHERE read = 0)"
    ).fetchone()
    return int(row[0]), int(row[1])


def inboxes_of(conn: sqlite3.Connection, message_ids: Sequence[str]) -> dict[str, str]:
    """``{id: inbox}`` of the listed messages that exist."""
    return _column_by_id(conn, message_ids, "inbox")


def get_raw(conn: sqlite3.Connection, message_id: str) -> bytes | None:
    row = conn.execute(
        "SELECT r.raw FROM message_raw r JOIN messages m ON m.seq = r.seq WHERE m.id = ?",
        (message_id,),
    ).fetchone()
    return bytes(row[0]) if row else None


def get_raw_at(conn: sqlite3.Connection, seq: int) -> bytes | None:
    """The raw bytes of the message stored at ``seq``."""
    row = conn.execute("SELECT raw FROM message_raw WHERE seq = ?", (seq,)).fetchone()
    return bytes(row[0]) if row else None


def get_parts(conn: sqlite3.Connection, seq: int) -> list[PartInfo]:
    rows = conn.execute(
        "SELECT part_id, filename, content_type, content_id, disposition, size, md5, sha1, sha256"
        " FROM message_parts WHERE message_seq = ? ORDER BY seq",
        (seq,),
    ).fetchall()
    return [PartInfo(*row) for row in rows]


def seqs_for_ids(conn: sqlite3.Connection, message_ids: Sequence[str]) -> dict[str, int]:
    """``{id: seq}`` for the ids that exist."""
    return _column_by_id(conn, message_ids, "seq")


def _column_by_id(
    conn: sqlite3.Connection, message_ids: Sequence[str], column: str
) -> dict[str, Any]:
    """``{id: column}`` of the listed messages that exist (500 ids per query)."""
    found: dict[str, Any] = {}
    for start in range(0, len(message_ids), 500):
        chunk = list(message_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT id, {column} FROM messages WHERE id IN ({marks})", chunk):
            found[row[0]] = row[1]
    return found


def _tags_of_visible(visible: Visible) -> tuple[str, list[str]]:
    if visible is None:
        return "1", []
    where, args = visible_sql(visible)
    return f"message_seq IN (SELECT seq FROM messages WHERE {where})", args


def all_tags(conn: sqlite3.Connection, visible: Visible = None) -> list[str]:
    """Every tag in use (on messages of the ``visible`` inboxes), sorted by name, ignoring case."""
    where, args = _tags_of_visible(visible)
    rows = conn.execute(
        f"SELECT DISTINCT tag FROM message_tags WHERE {where} ORDER BY tag COLLATE NOCASE", args
    )
    return [row[0] for row in rows]


def tag_counts(conn: sqlite3.Connection, visible: Visible = None) -> dict[str, int]:
    where, args = _tags_of_visible(visible)
    rows = conn.execute(
        f"SELECT tag, COUNT(*) FROM message_tags WHERE {where}"
        " GROUP BY tag ORDER BY tag COLLATE NOCASE",
        args,
    )
    return {row[0]: row[1] for row in rows}


# --- changes (writer connection) ---------------------------------------------------------
def set_read(conn: sqlite3.Connection, message_ids: Sequence[str], read: bool) -> list[str]:
    """Set the read flag of the listed messages; returns the ids whose state changed."""
    changed: list[str] = []
    for start in range(0, len(message_ids), 500):
        chunk = list(message_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"UPDATE messages SET read = ? WHERE read != ? AND id IN ({marks}) RETURNING id",
            [int(read), int(read), *chunk],
        ).fetchall()
        changed += [row[0] for row in rows]
    return changed


def set_read_all(conn: sqlite3.Connection, read: bool, visible: Visible = None) -> int:
    """Set the read flag of every message (of the ``visible`` inboxes); returns how many
    changed."""
    where, args = visible_sql(visible)
    return conn.execute(
        f"UPDATE messages SET read = ? WHERE read != ? AND {where}", [int(read), int(read), *args]
    ).rowcount


def ids_in(conn: sqlite3.Connection, visible: Visible) -> list[str]:
    """Ids of every message of the ``visible`` inboxes."""
    where, args = visible_sql(visible)
    return [row[0] for row in conn.execute(f"SELECT id FROM messages WHERE {where}", args)]


def delete_by_ids(conn: sqlite3.Connection, message_ids: Sequence[str]) -> list[str]:
    """Delete the listed messages (unknown ids are ignored); returns the ids deleted."""
    found = seqs_for_ids(conn, message_ids)
    delete_by_seqs(conn, list(found.values()))
    return list(found)


def set_tags(
    conn: sqlite3.Connection, message_ids: Sequence[str], tags: Sequence[str]
) -> list[str]:
    """Replace the tags of the listed messages; returns the ids that exist."""
    found = seqs_for_ids(conn, message_ids)
    for seq in found.values():
        conn.execute("DELETE FROM message_tags WHERE message_seq = ?", (seq,))
        conn.executemany(
            "INSERT OR IGNORE INTO message_tags (message_seq, tag) VALUES (?, ?)",
            [(seq, tag) for tag in tags],
        )
    return list(found)


def tag_exists(conn: sqlite3.Connection, tag: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM message_tags WHERE tag = ? COLLATE NOCASE LIMIT 1", (tag,)
    ).fetchone()
    return row is not None


def rename_tag(conn: sqlite3.Connection, old: str, new: str) -> int:
    """Rename a tag on every message (names compare case-insensitively); returns rows touched."""
    rows = conn.execute(
        "SELECT message_seq FROM message_tags WHERE tag = ? COLLATE NOCASE", (old,)
    ).fetchall()
    conn.execute("DELETE FROM message_tags WHERE tag = ? COLLATE NOCASE", (old,))
    conn.executemany(
        "INSERT OR IGNORE INTO message_tags (message_seq, tag) VALUES (?, ?)",
        [(row[0], new) for row in rows],
    )
    return len(rows)


def delete_tag(conn: sqlite3.Connection, tag: str) -> int:
    """Remove a tag from every message; returns how many messages had it."""
    return conn.execute("DELETE FROM message_tags WHERE tag = ? COLLATE NOCASE", (tag,)).rowcount
