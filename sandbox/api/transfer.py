"""Bulk import and export (our extension): ``POST /api/v1/import`` and ``GET /api/v1/export``.

Import takes an mbox, a zip (of ``.eml`` files, or of a Maildir) or one message as the request
body (told apart by their first bytes), ``?inbox=NAME`` to put them in that inbox (else each
goes where a message without credentials goes: its ``X-Sandbox-Inbox`` header, the inbox
rules, ``default``). Every message goes through the one ingest path, stored as it is (no
Message-ID added), door ``import``; an mbox message's ``From `` line and line endings are kept
in its metadata, so exporting it as mbox gives the same bytes. It answers once all are stored
and searchable: ``{"Imported": n, "IDs": [...], "Skipped": [{"Name", "Error"}]}``.

Export streams the messages a search matches (``query``, ``inbox``, ``tz`` as ``/search``; an
empty query: every message), oldest first, as ``format=mbox`` (the default), ``maildir`` or
``eml-zip`` (zips), to download (``Content-Disposition: attachment``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import IO, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from mailsandbox import archive
from mailsandbox.api.deps import GoJSONResponse, bad_request, error, get_sandbox
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.archive import Archived
from mailsandbox.ingest import Inbound
from mailsandbox.logins import Visible
from mailsandbox.reading import compute
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages
from mailsandbox.storage import search as finder
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

router = APIRouter(prefix="/api/v1", tags=["testing"])

MAX_UPLOAD = 256 * 1024 * 1024
SPOOL = 8 * 1024 * 1024  # kept in memory up to this, then in a temporary file
BATCH = 100  # messages ingested (and, for export, read) at a time
# What a broken or unsupported zip (encrypted, an unknown compression) or mbox raises.
UNREADABLE = (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError)
FORMATS = {
    "mbox": ("application/mbox", "mbox"),
    "maildir": ("application/zip", "maildir.zip"),
    "eml-zip": ("application/zip", "zip"),
}


# --- import ------------------------------------------------------------------------------
def _read(spool: IO[bytes]) -> list[Archived]:
    head = spool.read(5)
    spool.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return list(archive.read_zip(spool))
    if archive.is_mbox(head):
        return list(archive.read_mbox(spool))
    return [Archived(spool.read())]


def _metadata(message: Archived) -> dict[str, Any]:
    kept = {
        "file": message.name,
        "from_line": message.from_line,
        "crlf": message.crlf and bool(message.from_line),
        "crlf_envelope": message.crlf_envelope,
    }
    return {"import": {k: v for k, v in kept.items() if v}} if any(kept.values()) else {}


async def import_messages(
    sandbox: Sandbox, found: list[Archived], inbox: str
) -> tuple[list[str], list[dict[str, str]]]:
    """Ingest archived messages in order; (ids stored, what was skipped and why)."""
    limit = sandbox.settings.smtp_max_size
    stored: list[str] = []
    skipped: list[dict[str, str]] = []
    for start in range(0, len(found), BATCH):
        batch = []
        for message in found[start : start + BATCH]:
            if limit and len(message.raw) > limit:
                skipped.append({"Name": message.name, "Error": f"larger than {limit} bytes"})
                continue
            inbound = Inbound(message.raw, source="import", inbox=inbox or "default",
                              metadata=_metadata(message), as_is=True)  # fmt: skip
            batch.append(sandbox.mailbox.ingest(inbound, searchable=False))
        stored += [summary.id for summary in await asyncio.gather(*batch)]
    await sandbox.mailbox.wait_searchable()
    return stored, skipped


@router.post("/import")
async def import_endpoint(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    inbox: str = Query("", description="put every message in this inbox"),
) -> Response:
    """Store the messages of an mbox, a zip of messages or Maildir, or one message."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD:
                return error(413, f"more than {MAX_UPLOAD} bytes: import in parts")
            spool.write(chunk)
        if size == 0:
            return bad_request("nothing to import: send an mbox, a zip or a message")
        spool.seek(0)
        try:
            found = await asyncio.to_thread(_read, spool)
        except UNREADABLE as exc:
            return bad_request(f"cannot read the archive: {exc}")
    ids, skipped = await import_messages(sandbox, found, inbox.strip()[:100])
    return GoJSONResponse({"Imported": len(ids), "IDs": ids, "Skipped": skipped})


# --- export ------------------------------------------------------------------------------
def _ids(
    conn: Connection, query: str, tz: str | None, inbox: str | None, visible: Visible
) -> list[str]:
    if query.strip() or inbox is not None or visible is not None:
        newest_first = finder.matching_ids(conn, query, tz, inbox, visible, strict=False)
        return newest_first[::-1]
    rows = conn.execute("SELECT id FROM messages ORDER BY created, seq")
    return [row[0] for row in rows]


def _summaries(conn: Connection, ids: list[str]) -> list[MessageSummary]:
    found = (messages.get_summary(conn, message_id) for message_id in ids)
    return [summary for summary in found if summary is not None]


def _as_archived(summary: MessageSummary, raw: bytes) -> Archived:
    kept = summary.metadata.get("import")
    kept = kept if isinstance(kept, dict) else {}
    from_line = kept.get("from_line") or archive.mbox_from_line(summary.mail_from, summary.created)
    return Archived(raw, str(from_line), bool(kept.get("crlf")), bool(kept.get("crlf_envelope")))


Writer = Callable[[MessageSummary, bytes], bytes]


def _writer(fmt: str) -> tuple[Writer, Callable[[], bytes], bytes]:
    """(bytes for one message, bytes at the end, bytes at the start) of a format."""
    if fmt == "mbox":
        return (lambda s, raw: archive.to_mbox(_as_archived(s, raw))), (lambda: b""), b""
    zip_stream = archive.ZipStream()
    if fmt == "eml-zip":
        return (lambda s, raw: zip_stream.add(f"{s.id}.eml", raw, s.created)), zip_stream.close, b""
    start = b"".join(zip_stream.add_dir(d) for d in ("cur", "new", "tmp"))

    def maildir(s: MessageSummary, raw: bytes) -> bytes:
        name = archive.maildir_name(s.created, s.id, s.read)
        return zip_stream.add(name, archive.maildir_message(raw), s.created)

    return maildir, zip_stream.close, start


async def _stream(sandbox: Sandbox, ids: list[str], fmt: str) -> AsyncIterator[bytes]:
    write, finish, start = _writer(fmt)
    if start:
        yield start
    for offset in range(0, len(ids), BATCH):
        summaries = await sandbox.db.read(partial(_summaries, ids=ids[offset : offset + BATCH]))
        for summary in summaries:
            # each through the shared reader (big ones a few at a time), written off the loop
            raw = await sandbox.reader.raw(summary.seq, summary.size)
            if raw:  # (deleted meanwhile: left out)
                yield await compute(len(raw), write, summary, raw)
    yield finish()


@router.get("/export")
async def export_endpoint(
    sandbox: Sandbox = Depends(get_sandbox),
    query: str = Query("", description="search syntax; empty: every message"),
    inbox: str | None = Query(None, description="only this inbox"),
    format: str = Query("mbox", description="mbox, maildir or eml-zip"),
    tz: str | None = Query(None),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """The matching messages, oldest first, as an mbox or a zip."""
    if format not in FORMATS:
        return bad_request(f"format is one of {', '.join(FORMATS)}, not {format!r}")
    try:
        ids = await sandbox.db.read(lambda conn: _ids(conn, query, tz, inbox, visible))
    except finder.SearchError as exc:
        return bad_request(str(exc))
    media_type, extension = FORMATS[format]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        _stream(sandbox, ids, format),
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="mailsandbox-{stamp}.{extension}"',
            "X-Messages": str(len(ids)),
        },
    )
