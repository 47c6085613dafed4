"""The UI's byte-serving routes: HTML preview document, message parts, and the downloads of the
raw ``.eml``, the HTML body and the text body.

Every response here carries content a stranger wrote, so each one is locked down: the preview
gets :func:`mailsandbox.api.rendering.message_csp` (``sandbox`` without scripts, remote loads
only with ``remote=1``: the same policy as ``/view/{ID}.html``), parts and raw sources get
``nosniff``, a ``sandbox`` CSP and, for downloads, ``Content-Disposition: attachment``.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse

from mailsandbox import mime
from mailsandbox.api.deps import get_sandbox
from mailsandbox.api.rendering import PREVIEW_SANDBOX, RAW_CSP, message_csp, own_origin
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.logins import Visible
from mailsandbox.reading import compute
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection
from mailsandbox.web import sanitize

router = APIRouter(include_in_schema=False)

PartFound = tuple[MessageSummary, mime.PartInfo]
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif"}


def part_url(message_id: str, part_id: str) -> str:
    return f"/ui/message/{quote(message_id)}/part/{quote(part_id)}"


def locked(response: Response, csp: str = RAW_CSP) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = csp
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _missing(text: str = "Message not found") -> Response:
    return locked(PlainTextResponse(text, status_code=404))


def _cid_urls(conn: Connection, summary: MessageSummary) -> dict[str, str]:
    return {
        p.content_id: part_url(summary.id, p.part_id)
        for p in messages.get_parts(conn, summary.seq)
        if p.content_id
    }


async def load_preview_html(
    sandbox: Sandbox, message_id: str, visible: Visible = None
) -> str | None:
    """The message's HTML made safe to show (:func:`.sanitize.rewrite_html`, off the event
    loop for big mail); "" if it has none (or cannot be parsed: the raw tab still shows it),
    None if there is no such message (or it is in an inbox the login may not see)."""
    summary = await sandbox.db.read(lambda conn: messages.get_summary(conn, message_id, visible))
    if summary is None:
        return None
    markup = (await sandbox.reader.open(summary.id, summary.seq, summary.size)).parsed.html
    if not markup:
        return ""
    cids = await sandbox.db.read(lambda conn: _cid_urls(conn, summary))
    return await compute(len(markup), sanitize.rewrite_html, markup, cids)


@router.get("/ui/message/{message_id}/preview")
async def preview(
    request: Request,
    message_id: str,
    remote: int = 0,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    body = await load_preview_html(sandbox, message_id, visible)
    if body is None:
        return _missing()
    if not body:
        return _missing("This message does not contain a HTML part")
    response = Response(body, media_type="text/html; charset=utf-8")
    response.headers["X-DNS-Prefetch-Control"] = "off"
    csp = message_csp(own_origin(request), bool(remote), sandbox=PREVIEW_SANDBOX)
    return locked(response, csp)


# The body downloads: (media type, file extension, what it is called) by name.
BODY_DOWNLOADS = {"html": ("text/html", "html", "HTML"), "text": ("text/plain", "txt", "text")}


@router.get("/ui/message/{message_id}/download/{kind}")
async def body_download(
    message_id: str,
    kind: str,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """The message's HTML or text body as sent, as a file (never rendered here)."""
    if kind not in BODY_DOWNLOADS:
        return _missing("Unknown download")
    summary = await sandbox.db.read(lambda conn: messages.get_summary(conn, message_id, visible))
    if summary is None:
        return _missing()
    parsed = (await sandbox.reader.open(summary.id, summary.seq, summary.size)).parsed
    text, html = parsed.text, parsed.html
    body = html if kind == "html" else text
    media_type, extension, name = BODY_DOWNLOADS[kind]
    if not body:
        return _missing(f"This message has no {name} part")
    response = Response(body.encode("utf-8"), media_type=f"{media_type}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{message_id}.{extension}"'
    return locked(response)


def _read_part(
    conn: Connection, message_id: str, part_id: str, visible: Visible
) -> PartFound | None:
    summary = messages.get_summary(conn, message_id, visible)
    if summary is None:
        return None
    info = next((p for p in messages.get_parts(conn, summary.seq) if p.part_id == part_id), None)
    return None if info is None else (summary, info)


@router.get("/ui/message/{message_id}/part/{part_id}")
async def part(
    message_id: str,
    part_id: str,
    dl: int = 0,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    found = await sandbox.db.read(lambda conn: _read_part(conn, message_id, part_id, visible))
    if found is None:
        return _missing("Part not found")
    summary, info = found
    node = await sandbox.reader.part(summary.id, summary.seq, summary.size, part_id)
    if node is None:
        return _missing("Part not found")
    content_type = info.content_type or "application/octet-stream"
    inline = not dl and content_type in INLINE_TYPES
    filename = quote(info.filename or f"part-{part_id}")
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Length": str(len(node.data)),
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{filename}",
    }
    chunks = sandbox.reader.chunks_of(node.data)
    return locked(StreamingResponse(chunks, media_type=content_type, headers=headers))


@router.get("/ui/message/{message_id}/raw")
async def raw_source(
    message_id: str,
    dl: int = 0,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """The stored source, streamed from the database a chunk at a time."""
    summary = await sandbox.db.read(lambda conn: messages.get_summary(conn, message_id, visible))
    if summary is None:
        return _missing()
    chunks = sandbox.reader.raw_chunks(summary.seq, summary.size)
    headers = {"Content-Length": str(summary.size)}
    if dl:
        headers["Content-Disposition"] = f'attachment; filename="{message_id}.eml"'
    media_type = "message/rfc822" if dl else "text/plain; charset=utf-8"
    return locked(StreamingResponse(chunks, media_type=media_type, headers=headers))
