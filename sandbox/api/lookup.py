"""Finding the message a single-message URL names: an id, or ``latest`` (optionally ``?query=``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request, Response

from mailsandbox import mime
from mailsandbox.api.deps import bad_request, get_sandbox, not_found
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.api.surface import is_cross_site
from mailsandbox.logins import Visible
from mailsandbox.reading import MessageReader, Opened
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store
from mailsandbox.storage import search as finder
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

LATEST = "latest"


@dataclass
class Found:
    """A stored message a URL names; its parse comes from the sandbox's :class:`MessageReader`
    (off the event loop, shared, cached), its raw bytes are never loaded whole here."""

    summary: MessageSummary
    reader: MessageReader

    async def open(self) -> Opened:
        s = self.summary
        return await self.reader.open(s.id, s.seq, s.size, s.subject)

    async def parse(self) -> mime.ParsedMessage:
        """The parsed message (mail that could not be parsed opens with no bodies)."""
        return (await self.open()).parsed

    async def raw(self) -> bytes:
        """The whole raw source (for checks that read every line)."""
        return await self.reader.raw(self.summary.seq, self.summary.size)


def _latest_id(conn: Connection, query: str, tz: str | None, visible: Visible) -> str | None:
    if not query.strip():
        return store.latest_id(conn, visible)
    ids = finder.search(conn, query, limit=1, tz=tz, visible=visible).messages
    return ids[0].id if ids else None


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

    def read(conn: Connection) -> MessageSummary | None:
        target: str | None = message_id
        if allow_latest and message_id == LATEST:
            params = request.query_params
            target = _latest_id(conn, params.get("query", ""), params.get("tz"), visible)
        return store.get_summary(conn, target, visible) if target else None

    try:
        summary = await sandbox.db.read(read)
    except finder.SearchError as exc:
        return bad_request(str(exc))
    return Found(summary, sandbox.reader) if summary is not None else not_found()


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
        await sandbox.mailbox.set_read([found.summary.id], True)
        found.summary.read = True
