"""Finding the message a single-message URL names: an id, or ``latest`` (optionally ``?query=``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from fastapi import Depends, Request, Response

from mailsandbox import mime
from mailsandbox.api import changes
from mailsandbox.api.deps import bad_request, get_sandbox, not_found
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.api.surface import is_cross_site
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store
from mailsandbox.storage import search as finder
from mailsandbox.storage.messages import MessageSummary

LATEST = "latest"


@dataclass
class Found:
    summary: MessageSummary
    raw: bytes

    def parse(self) -> mime.ParsedMessage:
        try:
            return mime.parse_message(self.raw)
        except Exception:  # stored raw because it could not be parsed: show what we have
            return mime.ParsedMessage(subject=self.summary.subject)


def _latest_id(
    conn: sqlite3.Connection, query: str, tz: str | None, visible: Visible
) -> str | None:
    if not query.strip():
        return store.latest_id(conn, visible)
    ids = finder.search(conn, query, limit=1, tz=tz, visible=visible).messages
    return ids[0].id if ids else None


def _load(conn: sqlite3.Connection, message_id: str, visible: Visible) -> Found | None:
    summary = store.get_summary(conn, message_id, visible)
    if summary is None:
        return None
    raw = conn.execute("SELECT raw FROM message_raw WHERE seq = ?", (summary.seq,)).fetchone()
    return Found(summary, bytes(raw[0]) if raw else b"")


async def find(
    request: Request, sandbox: Sandbox, message_id: str, *, allow_latest: bool = True
) -> Found | Response:
    """The message and its raw bytes, or the error response to send (404, or 400 bad query).

    ``latest`` is never resolved for a page of another site: only a message's random id lets
    one load its content (an image of the newest mail would otherwise be one ``<img>`` away).
    A message in an inbox the request's login may not see is not found.
    """
    allow_latest = allow_latest and not is_cross_site(request)
    visible = visible_inboxes(request)

    def read(conn: sqlite3.Connection) -> Found | None:
        target: str | None = message_id
        if allow_latest and message_id == LATEST:
            params = request.query_params
            target = _latest_id(conn, params.get("query", ""), params.get("tz"), visible)
        return _load(conn, target, visible) if target else None

    try:
        found = await sandbox.db.read(read)
    except finder.SearchError as exc:
        return bad_request(str(exc))
    return found if found is not None else not_found()


async def found_message(
    message_id: str, request: Request, sandbox: Sandbox = Depends(get_sandbox)
) -> Found | Response:
    """Route dependency: the message ``{message_id}`` names, or the error response to send."""
    return await find(request, sandbox, message_id)


async def opened_message(
    found: Found | Response = Depends(found_message), sandbox: Sandbox = Depends(get_sandbox)
) -> Found | Response:
    """Route dependency: as :func:`found_message`, and the message is marked read (opened)."""
    if isinstance(found, Found):
        await mark_read(sandbox, found)
    return found


async def mark_read(sandbox: Sandbox, found: Found) -> None:
    """Opening a message marks it read (and announces it, if that changed anything)."""
    if not found.summary.read:
        await changes.set_read(sandbox, [found.summary.id], True)
        found.summary.read = True
