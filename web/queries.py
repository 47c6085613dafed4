"""What the pages read: one inbox page (listing or search), the inbox names, one message in full
(with its links and one-time codes, delivery events and webhook attempts).

All functions are synchronous and take a reader connection; routes run them with
``await sandbox.db.read(...)``. A page never loads more than ``limit`` summaries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mailsandbox import extract, mime, reading
from mailsandbox.events import outbox
from mailsandbox.logins import Visible
from mailsandbox.storage import events, messages, search
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection
from mailsandbox.web import sanitize
from mailsandbox.web.overview import Overview, read_overview

PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 200)  # the page sizes the inbox offers
RAW_PREVIEW_BYTES = 512 * 1024
TEXT_PREVIEW_CHARS = 512 * 1024
EXTRACT_INLINE = 64 * 1024  # characters of text + HTML up to which links and codes come inline


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
    tags: list[tuple[str, int]] = field(default_factory=list)
    error: str = ""
    notice: str = ""  # e.g. "3 messages are not searchable yet (...)"
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


def _inbox_counts(conn: Connection, inbox: str, visible: Visible) -> tuple[int, int]:
    if visible is not None and inbox not in visible:
        return 0, 0
    row = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(1 - read), 0) FROM messages WHERE inbox = ?", (inbox,)
    ).fetchone()
    return int(row[0]), int(row[1])


def load_inbox(
    conn: Connection,
    query: str,
    start: int,
    inbox: str,
    overview: Overview | None = None,
    limit: int = PAGE_SIZE,
    visible: Visible = None,
    beside: search.Beside | None = None,
) -> InboxPage:
    """One page of the inbox, newest first; a non-empty ``query`` uses the shared search.

    ``overview`` (store-wide counts and inbox names) is read unless a cached one is given.
    With ``visible`` (a scoped login's inboxes), only their messages count. ``beside``: see
    :func:`mailsandbox.storage.search.search`.
    """
    overview = overview or read_overview(conn, visible)
    all_total, all_unread = overview.total, overview.unread
    page = InboxPage([], 0, 0, all_unread, all_total, query, inbox, start, limit)
    page.overview = overview
    page.inboxes, page.tags = overview.inboxes, overview.tags
    if not query.strip():
        page.messages = messages.list_summaries(
            conn, start=start, limit=limit, inbox=inbox or None, visible=visible
        )
        counted = _inbox_counts(conn, inbox, visible) if inbox else (all_total, all_unread)
        page.total, page.unread = counted
        return page
    try:
        found = search.search(
            conn,
            query,
            start=start,
            limit=limit,
            inbox=inbox or None,
            visible=visible,
            beside=beside,
        )
    except search.SearchError as exc:
        page.error = str(exc) or "Invalid search"
        return page
    page.messages, page.total, page.unread = found.messages, found.total, found.unread
    return page


# How soon an open message page looks again while a webhook for it is on its way (seconds).
RECHECK_MIN, RECHECK_MAX = 0.5, 10.0


@dataclass
class WebhookLog:
    """A message's webhook attempts (newest first) and its deliveries still on their way."""

    attempts: list[dict[str, Any]]
    pending: int = 0
    next_attempt: float | None = None

    def recheck_ms(self, now: float | None = None) -> int:
        """Milliseconds until the page should look again (0: nothing is pending)."""
        if not self.pending or self.next_attempt is None:
            return 0
        wait = self.next_attempt - (now or time.time()) + 0.3
        return int(min(max(wait, RECHECK_MIN), RECHECK_MAX) * 1000)


def with_event_types(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``event_type`` (the delivery event a webhook attempt carried, "" if none) to rows."""
    ids = sorted({row["event_id"] for row in rows if row.get("event_id")})
    types: dict[str, str] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ",".join("?" * len(part))
        query = f"SELECT id, type FROM events WHERE id IN ({marks})"
        types.update((row[0], row[1]) for row in conn.execute(query, part))
    return [{**row, "event_type": types.get(row.get("event_id") or "", "")} for row in rows]


def load_webhooks(conn: Connection, message_id: str) -> WebhookLog:
    """The message's webhook attempts, and its deliveries still pending (``webhook_outbox``)."""
    found = with_event_types(conn, outbox.attempts(conn, message_id=message_id, limit=100))
    row = conn.execute(
        "SELECT COUNT(*), MIN(next_attempt) FROM webhook_outbox"
        " WHERE message_id = ? AND status = 'pending'",
        (message_id,),
    ).fetchone()
    return WebhookLog(found, int(row[0]), row[1])


@dataclass
class MessageDetail:
    summary: MessageSummary
    headers: list[tuple[str, str]]
    text: str
    html: str
    parts: list[mime.PartInfo]
    raw_text: str
    raw_truncated: bool
    text_truncated: bool
    remote_content: bool  # the HTML loads remote images or styles (blocked until asked)
    envelope_only: set[str]
    events: list[events.DeliveryEvent]
    webhooks: WebhookLog
    # None: the bodies are big, so the page loads links and codes separately (web/extracts.py).
    links: list[extract.FoundLink] | None = None
    codes: list[extract.FoundCode] | None = None

    @property
    def has_html(self) -> bool:
        return bool(self.html)


def envelope_only(summary: MessageSummary) -> set[str]:
    """Envelope recipients that appear in neither To nor Cc (shown as Bcc by ingest)."""
    visible = {a.address.lower() for a in (*summary.to, *summary.cc)}
    return {r.lower() for r in summary.recipients if r.lower() not in visible}


def load_message(
    conn: Connection, summary: MessageSummary, opened: reading.Opened
) -> MessageDetail:
    """The message page's data: ``opened`` is the message's parse (from the sandbox's reader),
    the raw source is read up to ``RAW_PREVIEW_BYTES``, the text body shown up to
    ``TEXT_PREVIEW_CHARS`` (the rest is one click away, at ``/view/{ID}.txt``)."""
    parsed = opened.parsed
    raw = reading.read_prefix(conn, summary.seq, RAW_PREVIEW_BYTES)
    detail = MessageDetail(
        summary=summary,
        headers=opened.headers,
        text=parsed.text[:TEXT_PREVIEW_CHARS],
        text_truncated=len(parsed.text) > TEXT_PREVIEW_CHARS,
        html=parsed.html,
        remote_content=sanitize.has_remote_content(parsed.html),
        parts=messages.get_parts(conn, summary.seq),
        raw_text=raw.decode("utf-8", "replace"),
        raw_truncated=summary.size > RAW_PREVIEW_BYTES,
        envelope_only=envelope_only(summary),
        events=events.for_message(conn, summary.id),
        webhooks=load_webhooks(conn, summary.id),
    )
    if len(parsed.text) + len(parsed.html) <= EXTRACT_INLINE:
        detail.links = extract.find_links(parsed.text, parsed.html)
        detail.codes = extract.find_codes(parsed.text, parsed.html)
    return detail


def neighbours(
    conn: Connection, summary: MessageSummary, visible: Visible = None
) -> tuple[str | None, str | None]:
    """(newer id, older id) next to a message in the all-inboxes order (of those visible)."""
    where, args = messages.visible_sql(visible)
    newer = conn.execute(
        f"SELECT id FROM messages WHERE (created, seq) > (?, ?) AND {where}"
        " ORDER BY created, seq LIMIT 1",
        (summary.created, summary.seq, *args),
    ).fetchone()
    older = conn.execute(
        f"SELECT id FROM messages WHERE (created, seq) < (?, ?) AND {where}"
        " ORDER BY created DESC, seq DESC LIMIT 1",
        (summary.created, summary.seq, *args),
    ).fetchone()
    return (newer[0] if newer else None, older[0] if older else None)
