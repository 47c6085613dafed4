"""What the pages read: one inbox page (listing or search), the inbox names, one message in full.

All functions are synchronous and take a reader connection; routes run them with
``await sandbox.db.read(...)``. A page never loads more than ``limit`` summaries.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from sandbox import mime
from sandbox.storage import events, messages, search
from sandbox.storage.messages import MessageSummary
from web.overview import Overview, read_overview

PAGE_SIZE = 50
RAW_PREVIEW_BYTES = 512 * 1024


@dataclass
class InboxPage:
    messages: list[MessageSummary]
    total: int  # matching messages
    unread: int  # matching unread messages
    all_unread: int  # unread in the whole store (page title)
    all_total: int
    query: str = ""
    inbox: str = ""
    start: int = 0
    limit: int = PAGE_SIZE
    inboxes: list[tuple[str, int]] = field(default_factory=list)
    error: str = ""
    overview: Overview | None = None

    @property
    def end(self) -> int:
        return self.start + len(self.messages)

    @property
    def newer_start(self) -> int | None:
        return max(0, self.start - self.limit) if self.start > 0 else None

    @property
    def older_start(self) -> int | None:
        return self.start + self.limit if self.end < self.total else None


def _inbox_counts(conn: sqlite3.Connection, inbox: str) -> tuple[int, int]:
    row = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(read = 0), 0) FROM messages WHERE inbox = ?", (inbox,)
    ).fetchone()
    return int(row[0]), int(row[1])


def load_inbox(
    conn: sqlite3.Connection,
    query: str,
    start: int,
    inbox: str,
    overview: Overview | None = None,
    limit: int = PAGE_SIZE,
) -> InboxPage:
    """One page of the inbox, newest first; a non-empty ``query`` uses the shared search.

    ``overview`` (store-wide counts and inbox names) is read unless a cached one is given.
    """
    overview = overview or read_overview(conn)
    all_total, all_unread = overview.total, overview.unread
    page = InboxPage([], 0, 0, all_unread, all_total, query, inbox, start, limit)
    page.overview = overview
    page.inboxes = overview.inboxes
    if not query.strip():
        page.messages = messages.list_summaries(conn, start=start, limit=limit, inbox=inbox or None)
        page.total, page.unread = _inbox_counts(conn, inbox) if inbox else (all_total, all_unread)
        return page
    try:
        found = search.search(conn, query, start=start, limit=limit, inbox=inbox or None)
    except search.SearchError as exc:
        page.error = str(exc) or "Invalid search"
        return page
    page.messages, page.total, page.unread = found.messages, found.total, found.unread
    return page


def search_ids(conn: sqlite3.Connection, query: str, inbox: str) -> list[str]:
    """Ids of every message matching ``query`` (for "delete search results"); [] if invalid."""
    try:
        return search.matching_ids(conn, query, inbox=inbox or None)
    except search.SearchError:
        return []


@dataclass
class MessageDetail:
    summary: MessageSummary
    headers: list[tuple[str, str]]
    text: str
    html: str
    parts: list[mime.PartInfo]
    raw_text: str
    raw_truncated: bool
    envelope_only: set[str]
    events: list[events.DeliveryEvent]

    @property
    def has_html(self) -> bool:
        return bool(self.html)


def envelope_only(summary: MessageSummary) -> set[str]:
    """Envelope recipients that appear in neither To nor Cc (shown as Bcc by ingest)."""
    visible = {a.address.lower() for a in (*summary.to, *summary.cc)}
    return {r.lower() for r in summary.recipients if r.lower() not in visible}


def load_message(conn: sqlite3.Connection, message_id: str) -> MessageDetail | None:
    summary = messages.get_summary(conn, message_id)
    if summary is None:
        return None
    raw = messages.get_raw(conn, message_id) or b""
    try:
        parsed = mime.parse_message(raw)
        headers = [(k, mime.decode_header_value(v)) for k, v in mime.load(raw).items()]
    except Exception:  # broken mail is still shown, raw
        parsed, headers = mime.ParsedMessage(), []
    return MessageDetail(
        summary=summary,
        headers=headers,
        text=parsed.text,
        html=parsed.html,
        parts=messages.get_parts(conn, summary.seq),
        raw_text=raw[:RAW_PREVIEW_BYTES].decode("utf-8", "replace"),
        raw_truncated=len(raw) > RAW_PREVIEW_BYTES,
        envelope_only=envelope_only(summary),
        events=events.for_message(conn, message_id),
    )


def neighbours(conn: sqlite3.Connection, summary: MessageSummary) -> tuple[str | None, str | None]:
    """(newer id, older id) next to a message in the all-inboxes order."""
    newer = conn.execute(
        "SELECT id FROM messages WHERE (created, seq) > (?, ?) ORDER BY created, seq LIMIT 1",
        (summary.created, summary.seq),
    ).fetchone()
    older = conn.execute(
        "SELECT id FROM messages WHERE (created, seq) < (?, ?)"
        " ORDER BY created DESC, seq DESC LIMIT 1",
        (summary.created, summary.seq),
    ).fetchone()
    return (newer[0] if newer else None, older[0] if older else None)
