"""Message storage: the rows of one message written together, and the reads every view shares.

Write functions take the writer's connection (they run inside its transaction); read functions
take a reader connection (see :mod:`mailsandbox.storage.sql`: one SQL for SQLite and
PostgreSQL, with a PostgreSQL variant where they differ). Nothing here knows about HTTP or
JSON shapes: the API turns :class:`MessageSummary` into Mailpit's wire format.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailsandbox import tagging
from mailsandbox.logins import Visible
from mailsandbox.mime import Address, ParsedMessage, PartInfo
from mailsandbox.storage import rawcodec, txmemo
from mailsandbox.storage.sql import (
    POSTGRESQL,
    SQLITE,
    Connection,
    Row,
    Sql,
    is_postgresql,
    limit_value,
)


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

    @functools.cached_property
    def stored(self) -> tuple[bytes, int]:
        """``raw`` as ``message_raw`` keeps it: ``(bytes, codec)`` (see
        :func:`~mailsandbox.storage.rawcodec.pack`), computed once. Ingest computes it in
        ``prepare``, on a worker thread for big messages: compressing one costs ~25 ms per MB
        of base64, which the writer thread (that every other write waits for) should not
        spend. (A copy made with ``dataclasses.replace`` computes its own.)"""
        return rawcodec.pack(self.raw)


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
_MESSAGE_COLUMNS = """id, created, inbox, source, username, mail_from, recipients, message_id,
    from_json, to_json, cc_json, bcc_json, reply_to_json, return_path, subject, date, size,
    snippet, attachments, inlines, read, metadata_json, parse_error"""
_MESSAGE_VALUES = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?"
_INSERT_MESSAGE = f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES ({_MESSAGE_VALUES})"
# (PostgreSQL: the new seq comes back with the INSERT, as its cursor's ``lastrowid``.)
INSERT_MESSAGE = Sql(_INSERT_MESSAGE, postgresql=_INSERT_MESSAGE + " RETURNING seq")
INSERT_RAW = "INSERT INTO message_raw (seq, raw, codec) VALUES (?, ?, ?)"
INSERT_TAG = "INSERT INTO message_tags (message_seq, tag) VALUES (?, ?) ON CONFLICT DO NOTHING"
INSERT_FTS = Sql(
    "INSERT INTO messages_fts (rowid, search_text) VALUES (?, ?)",
    postgresql="INSERT INTO messages_fts_pending (rowid, search_text) VALUES (?, ?)",
)


# PostgreSQL: the message, its raw bytes and its search text in one statement (a round trip
# and two statements' overhead fewer per message; SQLite has no data-modifying CTEs, and there
# a statement is a function call). The search text goes to messages_fts_pending, which
# mailsandbox.pg_indexer empties into messages_fts after the commit. With a seq reserved ahead
# (see reserve_seqs) the message is inserted with it, and nothing is read back.
def _together(reserved: bool, fts: bool) -> str:
    insert = (
        f"INSERT INTO messages (seq, {_MESSAGE_COLUMNS}) VALUES (?, {_MESSAGE_VALUES})"
        if reserved
        else _INSERT_MESSAGE
    )
    with_fts = ", f AS (INSERT INTO messages_fts_pending (rowid, search_text) SELECT seq, ? FROM m)"
    return (
        f"WITH m AS ({insert} RETURNING seq),"
        " r AS (INSERT INTO message_raw (seq, raw, codec) SELECT seq, ?, ? FROM m)"
        f"{with_fts if fts else ''} SELECT seq FROM m"
    )


INSERT_TOGETHER = {(r, f): _together(r, f) for r in (False, True) for f in (False, True)}

# PostgreSQL: ``n`` message seqs drawn at once, for a batch's messages (see reserve_seqs).
RESERVE = "SELECT nextval(pg_get_serial_sequence('messages', 'seq')) FROM generate_series(1, ?)"
RESERVED = "messages.seq"  # the txmemo key of the seqs reserved for a write transaction


def reserve_seqs(n: int) -> txmemo.ReadAhead:
    """``n`` message seqs for the write transaction to take (:func:`txmemo.take`), drawn from
    the identity's sequence with its BEGIN on PostgreSQL: a message then needs no wait for its
    own seq (a round trip, its insert's whole run on the server, each). The seqs are those the
    inserts would have drawn, in the same order, a moment earlier; one not taken (a job that
    failed) is a gap, as a rolled-back insert leaves."""
    return txmemo.ReadAhead(
        RESERVED,
        lambda conn: conn.execute(RESERVE, (n,)),
        lambda cursor: [int(row[0]) for row in cursor],
    )


def insert_message(conn: Connection, msg: NewMessage, *, index: bool = True) -> int:
    """Write a message with its raw bytes, parts, tags and search text; returns its seq.

    With ``index=False`` no search-index row is written (ingest leaves that to
    :mod:`mailsandbox.indexer`, which inserts it a few milliseconds later).
    """
    text = msg.parsed.search_text if index else None
    write = _insert_together if is_postgresql(conn) else _insert_apart
    seq = write(conn, _message_values(msg), msg.stored, text)
    _insert_parts_and_tags(conn, msg, seq)
    return seq


def _message_values(msg: NewMessage) -> tuple[Any, ...]:
    """The parameters of ``INSERT_MESSAGE``."""
    p = msg.parsed
    return (
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
    )


def _insert_parts_and_tags(conn: Connection, msg: NewMessage, seq: int) -> None:
    p = msg.parsed
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
            INSERT_TAG,
            [(seq, tag) for tag in msg.tags],
        )


def _insert_apart(
    conn: Connection, values: Sequence[Any], stored: tuple[bytes, int], text: str | None
) -> int:
    """The message's row, its raw bytes, its search text (unless None): a statement each."""
    seq = conn.execute(INSERT_MESSAGE, values).lastrowid
    assert seq is not None
    conn.execute(INSERT_RAW, (seq, *stored))
    if text is not None:
        conn.execute(INSERT_FTS, (seq, text))
    return seq


def _insert_together(
    conn: Connection, values: Sequence[Any], stored: tuple[bytes, int], text: str | None
) -> int:
    """:func:`_insert_apart` in one statement (PostgreSQL's data-modifying CTEs)."""
    extra = (*stored,) if text is None else (*stored, text)
    seq = txmemo.take(conn, RESERVED)
    if seq is not None:
        conn.execute(INSERT_TOGETHER[True, text is not None], (seq, *values, *extra))
        return int(seq)
    row = conn.execute(INSERT_TOGETHER[False, text is not None], (*values, *extra)).fetchone()
    return int(row[0])


def delete_by_seqs(conn: Connection, seqs: Sequence[int]) -> None:
    """Delete messages and everything hanging off them."""
    for start in range(0, len(seqs), 500):
        chunk = list(seqs[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for table, column in _owned(conn):
            conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)


def _owned(conn: Connection) -> list[tuple[str, str]]:
    """The tables of a message's rows (table, column of its seq), the message's own last. On
    PostgreSQL a pending search text is deleted before the indexed ones: a move of it under
    way (mailsandbox.pg_indexer) is waited for, and what it moved is then deleted too."""
    pending = [("messages_fts_pending", "rowid")] if is_postgresql(conn) else []
    return [
        ("message_raw", "seq"),
        ("message_parts", "message_seq"),
        ("message_tags", "message_seq"),
        *pending,
        ("messages_fts", "rowid"),
        ("messages", "seq"),
    ]


def update_metadata(conn: Connection, message_id: str, metadata: dict[str, Any]) -> bool:
    """Replace a message's ESP metadata (an emulator records a later change, such as a new
    send time); False when there is no such message."""
    cursor = conn.execute(
        "UPDATE messages SET metadata_json = ? WHERE id = ?", (json.dumps(metadata), message_id)
    )
    return cursor.rowcount > 0


def delete_all(conn: Connection) -> None:
    for table, _ in _owned(conn):
        conn.execute(f"DELETE FROM {table}")


BEYOND_NEWEST = Sql(
    "SELECT seq, id FROM messages ORDER BY created DESC, seq DESC LIMIT -1 OFFSET ?",
    postgresql="SELECT seq, id FROM messages ORDER BY created DESC, seq DESC OFFSET ?",
)


def prune(conn: Connection, max_messages: int, min_created: float | None) -> list[str]:
    """Drop the oldest messages beyond ``max_messages`` and those created before ``min_created``."""
    victims: list[tuple[int, str]] = []
    if max_messages > 0:
        victims += conn.execute(BEYOND_NEWEST, (max_messages,)).fetchall()
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


# Tags sort and compare case-insensitively (SQLite's NOCASE; on PostgreSQL lower() of a
# "C"-collated column folds ASCII only, exactly as NOCASE does).
BY_TAG = {SQLITE: "tag COLLATE NOCASE", POSTGRESQL: "lower(tag), tag"}
TAG_IS = Sql("tag = ? COLLATE NOCASE", postgresql="lower(tag) = lower(?)")


def _where_tag(select: str) -> Sql:
    """``select`` (ending in WHERE) for the tag named by the one parameter."""
    return Sql(f"{select} {TAG_IS}", postgresql=f"{select} {TAG_IS.postgresql}")


def tags_for(conn: Connection, seqs: Iterable[int]) -> dict[int, list[str]]:
    seq_list = list(seqs)
    result: dict[int, list[str]] = {seq: [] for seq in seq_list}
    if not seq_list:
        return result
    marks = ",".join("?" * len(seq_list))
    select = f"SELECT message_seq, tag FROM message_tags WHERE message_seq IN ({marks}) ORDER BY"
    sql = Sql(f"{select} {BY_TAG[SQLITE]}", postgresql=f"{select} {BY_TAG[POSTGRESQL]}")
    for seq, tag in conn.execute(sql, seq_list):
        result[seq].append(tag)
    return result


def summaries_from_rows(conn: Connection, rows: Sequence[Row]) -> list[MessageSummary]:
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
    """A condition on ``column`` that keeps the ``visible`` inboxes (``TRUE`` for all)."""
    if visible is None:
        return "TRUE", []
    names = sorted(visible)
    return (f"{column} IN ({','.join('?' * len(names))})", names) if names else ("FALSE", [])


def visible_ids(conn: Connection, ids: Sequence[str], visible: Visible) -> list[str]:
    """Those of ``ids`` that are messages of the ``visible`` inboxes (all of them for None)."""
    if visible is None:
        return list(ids)
    return [i for i, inbox in inboxes_of(conn, ids).items() if inbox in visible]


def get_summary(
    conn: Connection, message_id: str, visible: Visible = None
) -> MessageSummary | None:
    """The message ``message_id``, if it is in a ``visible`` inbox."""
    where, args = visible_sql(visible)
    found = summaries_where(conn, f"id = ? AND {where}", (message_id, *args))
    return found[0] if found else None


def get_summaries(conn: Connection, message_ids: Sequence[str]) -> list[MessageSummary]:
    """The summaries of the listed messages that exist (in no particular order)."""
    found: list[MessageSummary] = []
    for start in range(0, len(message_ids), 500):
        chunk = list(message_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT {SUMMARY_COLUMNS} FROM messages WHERE id IN ({marks})", chunk)
        found += summaries_from_rows(conn, rows.fetchall())
    return found


def summaries_where(
    conn: Connection,
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
        (*args, limit_value(conn, limit)),
    )
    return summaries_from_rows(conn, rows.fetchall())


def latest_id(conn: Connection, visible: Visible = None) -> str | None:
    where, args = visible_sql(visible)
    row = conn.execute(
        f"SELECT id FROM messages WHERE {where} ORDER BY created DESC, seq DESC LIMIT 1", args
    ).fetchone()
    return row[0] if row else None


def list_summaries(
    conn: Connection,
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
        [*args, limit_value(conn, limit), start],
    ).fetchall()
    return summaries_from_rows(conn, rows)


def counts(conn: Connection, visible: Visible = None) -> tuple[int, int]:
    """(total, unread)."""
    if visible is not None:
        where, args = visible_sql(visible)
        row = conn.execute(
            f"SELECT COUNT(*), COUNT(*) FILTER (WHERE read = 0) FROM messages WHERE {where}", args
        ).fetchone()
        return int(row[0]), int(row[1])
    row = conn.execute(
        "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM messages WHERE read = 0)"
    ).fetchone()
    return int(row[0]), int(row[1])


def inboxes_of(conn: Connection, message_ids: Sequence[str]) -> dict[str, str]:
    """``{id: inbox}`` of the listed messages that exist."""
    return _column_by_id(conn, message_ids, "inbox")


def get_raw(conn: Connection, message_id: str) -> bytes | None:
    """The raw bytes of message ``message_id`` (None if there is no such message)."""
    row = conn.execute(
        "SELECT r.raw, r.codec FROM message_raw r JOIN messages m ON m.seq = r.seq WHERE m.id = ?",
        (message_id,),
    ).fetchone()
    return rawcodec.unpack(bytes(row[0]), row[1]) if row else None


def get_raw_at(conn: Connection, seq: int) -> bytes | None:
    """The raw bytes of the message stored at ``seq``."""
    row = conn.execute("SELECT raw, codec FROM message_raw WHERE seq = ?", (seq,)).fetchone()
    return rawcodec.unpack(bytes(row[0]), row[1]) if row else None


def get_parts(conn: Connection, seq: int) -> list[PartInfo]:
    rows = conn.execute(
        "SELECT part_id, filename, content_type, content_id, disposition, size, md5, sha1, sha256"
        " FROM message_parts WHERE message_seq = ? ORDER BY seq",
        (seq,),
    ).fetchall()
    return [PartInfo(*row) for row in rows]


def seqs_for_ids(conn: Connection, message_ids: Sequence[str]) -> dict[str, int]:
    """``{id: seq}`` for the ids that exist."""
    return _column_by_id(conn, message_ids, "seq")


def _column_by_id(conn: Connection, message_ids: Sequence[str], column: str) -> dict[str, Any]:
    """``{id: column}`` of the listed messages that exist (500 ids per query)."""
    found: dict[str, Any] = {}
    for start in range(0, len(message_ids), 500):
        chunk = list(message_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT id, {column} FROM messages WHERE id IN ({marks})", chunk):
            found[row[0]] = row[1]
    return found


def _by_tag(conn: Connection) -> str:
    return BY_TAG[POSTGRESQL if is_postgresql(conn) else SQLITE]


def _tags_of_visible(visible: Visible) -> tuple[str, list[str]]:
    if visible is None:
        return "TRUE", []
    where, args = visible_sql(visible)
    return f"message_seq IN (SELECT seq FROM messages WHERE {where})", args


def all_tags(conn: Connection, visible: Visible = None) -> list[str]:
    """Every tag in use (on messages of the ``visible`` inboxes), sorted by name, ignoring case."""
    where, args = _tags_of_visible(visible)
    rows = conn.execute(
        f"SELECT tag FROM (SELECT DISTINCT tag FROM message_tags WHERE {where}) t"
        f" ORDER BY {_by_tag(conn)}",
        args,
    )
    return [row[0] for row in rows]


def tag_counts(conn: Connection, visible: Visible = None) -> dict[str, int]:
    where, args = _tags_of_visible(visible)
    rows = conn.execute(
        f"SELECT tag, COUNT(*) FROM message_tags WHERE {where}"
        f" GROUP BY tag ORDER BY {_by_tag(conn)}",
        args,
    )
    return {row[0]: row[1] for row in rows}


# --- changes (writer connection) ---------------------------------------------------------
def set_read(conn: Connection, message_ids: Sequence[str], read: bool) -> list[str]:
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


def set_read_all(conn: Connection, read: bool, visible: Visible = None) -> int:
    """Set the read flag of every message (of the ``visible`` inboxes); returns how many
    changed."""
    where, args = visible_sql(visible)
    return conn.execute(
        f"UPDATE messages SET read = ? WHERE read != ? AND {where}", [int(read), int(read), *args]
    ).rowcount


def ids_in(conn: Connection, visible: Visible) -> list[str]:
    """Ids of every message of the ``visible`` inboxes."""
    where, args = visible_sql(visible)
    return [row[0] for row in conn.execute(f"SELECT id FROM messages WHERE {where}", args)]


def delete_by_ids(conn: Connection, message_ids: Sequence[str]) -> list[str]:
    """Delete the listed messages (unknown ids are ignored); returns the ids deleted."""
    found = seqs_for_ids(conn, message_ids)
    delete_by_seqs(conn, list(found.values()))
    return list(found)


def set_tags(conn: Connection, message_ids: Sequence[str], tags: Sequence[str]) -> list[str]:
    """Replace the tags of the listed messages; returns the ids that exist."""
    found = seqs_for_ids(conn, message_ids)
    for seq in found.values():
        conn.execute("DELETE FROM message_tags WHERE message_seq = ?", (seq,))
        conn.executemany(INSERT_TAG, [(seq, tag) for tag in tags])
    return list(found)


def edit_tags(
    conn: Connection, message_ids: Sequence[str], add: Sequence[str], remove: set[str]
) -> dict[str, list[str]]:
    """Add ``add`` and drop the tags named in ``remove`` (lower-cased) on the listed messages,
    keeping their other tags; returns ``{id: new tags}`` of those that changed."""
    found = seqs_for_ids(conn, message_ids)
    current = tags_for(conn, found.values())
    changed: dict[str, list[str]] = {}
    for message_id, seq in found.items():
        kept = [t for t in current[seq] if t.lower() not in remove]
        tags = tagging.clean_tags([*kept, *add])
        if tags != current[seq]:
            set_tags(conn, [message_id], tags)
            changed[message_id] = tags
    return changed


def tag_exists(conn: Connection, tag: str) -> bool:
    row = conn.execute(_where_tag("SELECT 1 FROM message_tags WHERE"), (tag,))
    return row.fetchone() is not None


def rename_tag(conn: Connection, old: str, new: str) -> int:
    """Rename a tag on every message (names compare case-insensitively); returns rows touched."""
    rows = conn.execute(_where_tag("SELECT message_seq FROM message_tags WHERE"), (old,))
    seqs = [row[0] for row in rows]
    conn.execute(_where_tag("DELETE FROM message_tags WHERE"), (old,))
    conn.executemany(INSERT_TAG, [(seq, new) for seq in seqs])
    return len(seqs)


def delete_tag(conn: Connection, tag: str) -> int:
    """Remove a tag from every message; returns how many messages had it."""
    return conn.execute(_where_tag("DELETE FROM message_tags WHERE"), (tag,)).rowcount
