"""The UI's byte-serving routes: HTML preview document, message parts, raw ``.eml`` download.

Every response here carries content a stranger wrote, so each one is locked down: the preview
gets :func:`mailsandbox.api.rendering.message_csp` (``sandbox`` without scripts, remote loads
only with ``remote=1``: the same policy as ``/view/{ID}.html``), parts and raw sources get
``nosniff``, a ``sandbox`` CSP and, for downloads, ``Content-Disposition: attachment``.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse

from mailsandbox import mime
from mailsandbox.api.deps import get_sandbox
from mailsandbox.api.rendering import RAW_CSP, message_csp, own_origin
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages
from mailsandbox.web import sanitize

router = APIRouter(include_in_schema=False)

INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif"}


def part_url(message_id: str, part_id: str) -> str:
    return f"/ui/message/{quote(message_id)}/part/{quote(part_id)}"


def _locked(response: Response, csp: str = RAW_CSP) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = csp
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _missing(text: str = "Message not found") -> Response:
    return _locked(PlainTextResponse(text, status_code=404))


def _load_preview(
    conn: sqlite3.Connection, message_id: str, visible: Visible
) -> tuple[str, dict[str, str]] | None:
    summary = messages.get_summary(conn, message_id, visible)
    raw = messages.get_raw(conn, message_id)
    if summary is None or raw is None:
        return None
    try:
        markup = mime.parse_message(raw).html
    except Exception:  # unparseable mail has no preview; the raw tab still shows it
        markup = ""
    cids = {
        p.content_id: part_url(message_id, p.part_id)
        for p in messages.get_parts(conn, summary.seq)
        if p.content_id
    }
    return markup, cids


@router.get("/ui/message/{message_id}/preview")
async def preview(
    request: Request,
    message_id: str,
    remote: int = 0,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    loaded = await sandbox.db.read(lambda conn: _load_preview(conn, message_id, visible))
    if loaded is None:
        return _missing()
    markup, cids = loaded
    if not markup:
        return _missing("This message does not contain a HTML part")
    body = sanitize.rewrite_html(markup, cids)
    response = Response(body, media_type="text/html; charset=utf-8")
    response.headers["X-DNS-Prefetch-Control"] = "off"
    return _locked(response, message_csp(own_origin(request), bool(remote)))


def _read_part(
    conn: sqlite3.Connection, message_id: str, part_id: str, visible: Visible
) -> mime.PartInfo | None:
    summary = messages.get_summary(conn, message_id, visible)
    if summary is None:
        return None
    return next((p for p in messages.get_parts(conn, summary.seq) if p.part_id == part_id), None)


@router.get("/ui/message/{message_id}/part/{part_id}")
async def part(
    message_id: str,
    part_id: str,
    dl: int = 0,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    info = await sandbox.db.read(lambda conn: _read_part(conn, message_id, part_id, visible))
    if info is None:
        return _missing("Part not found")
    raw = await sandbox.db.read(lambda conn: messages.get_raw(conn, message_id))
    node = mime.find_part(mime.load(raw), part_id) if raw is not None else None
    if info is None or node is None:
        return _missing("Part not found")
    content_type = info.content_type or "application/octet-stream"
    inline = not dl and content_type in INLINE_TYPES
    filename = quote(info.filename or f"part-{part_id}")
    disposition = "inline" if inline else "attachment"
    response = Response(mime.decode_payload(node), media_type=content_type)
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{filename}"
    return _locked(response)


@router.get("/ui/message/{message_id}/raw")
async def raw_source(
    message_id: str,
    dl: int = 0,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    def read(conn: sqlite3.Connection) -> bytes | None:
        if messages.get_summary(conn, message_id, visible) is None:
            return None
        return messages.get_raw(conn, message_id)

    raw = await sandbox.db.read(read)
    if raw is None:
        return _missing()
    if dl:
        response = Response(raw, media_type="message/rfc822")
        response.headers["Content-Disposition"] = f'attachment; filename="{message_id}.eml"'
    else:
        response = Response(raw, media_type="text/plain; charset=utf-8")
    return _locked(response)
