"""MailHog's API for the npm ``mailhog`` client (spec §10): ``GET /api/v2/messages``,
``GET /api/v2/search`` (MailHog's message shape, header names as written, bodies still
encoded) and ``DELETE /api/v1/messages/{id}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from mailsandbox.api.deps import GoJSONResponse, get_sandbox, int_param, not_found
from mailsandbox.api.schemas import go_time
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import rawcodec
from mailsandbox.storage.messages import visible_sql
from mailsandbox.storage.sql import POSTGRESQL, Connection, Row

router = APIRouter(tags=["mailhog"])

MAX_LIMIT = 250
MAX_DEPTH = 20  # multipart levels split into MIME parts; deeper ones stay in their Body
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
# MailHog's search: a substring, ASCII case ignored (SQLite's LIKE; ILIKE on PostgreSQL's
# "C"-collated columns). "containing" looks in the raw bytes, which are stored compressed: they
# are read and searched here (:func:`_containing`), as the LIKE on them did (byte substrings,
# ASCII case folded), on either backend.
_KINDS = {
    "from": "(m.mail_from {like} ? ESCAPE '\\' OR m.from_json {like} ? ESCAPE '\\')",
    "to": "(m.recipients {like} ? ESCAPE '\\' OR m.to_json {like} ? ESCAPE '\\')",
    "containing": "",
}
_SCAN_BATCH = 200  # raw messages read at a time by a "containing" search (bounds memory)


def _like(text: str) -> str:
    """A LIKE pattern for "contains ``text``" (backslash escapes the wildcards)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _path(address: str) -> dict[str, Any]:
    mailbox, _, domain = address.rpartition("@") if "@" in address else (address, "", "")
    return {"Relays": None, "Mailbox": mailbox, "Domain": domain, "Params": ""}


def _split(text: str) -> tuple[dict[str, list[str]], str]:
    """Headers (names as written, last one wins, continuations appended) and the raw body."""
    head, _, body = text.partition("\r\n\r\n")
    headers: dict[str, list[str]] = {}
    last = ""
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and last:
            headers[last][0] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip():
            last = name.strip()
            headers[last] = [value.strip()]
    return headers, body


def _content(text: str, depth: int = 0) -> dict[str, Any]:
    headers, body = _split(text)
    content_type = next((v[0] for k, v in headers.items() if k.lower() == "content-type"), "")
    return {
        "Headers": headers,
        "Body": body,
        "Size": len(text.encode("utf-8", "surrogateescape")),
        "MIME": _mime(content_type, body, depth),
    }


def _mime(content_type: str, body: str, depth: int = 0) -> dict[str, Any] | None:
    match = _BOUNDARY.search(content_type)
    if not content_type.lower().startswith("multipart/") or not match or depth > MAX_DEPTH:
        return None
    pieces = [p.strip("\r\n") for p in body.split("--" + match.group(1))]
    return {"Parts": [_content(p, depth + 1) for p in pieces if p and p != "--"]}


def _message(row: Row) -> dict[str, Any]:
    raw = rawcodec.unpack(bytes(row["raw"]), row["codec"])
    text = raw.decode("utf-8", "surrogateescape")
    content = _content(text)
    mime = content["MIME"]
    content["MIME"] = None
    recipients = json.loads(row["recipients"] or "[]")
    data = text.encode("utf-8", "replace").decode("utf-8", "replace")
    return {
        "ID": row["id"],
        "From": _path(row["mail_from"]),
        "To": [_path(r) for r in recipients],
        "Content": json.loads(json.dumps(content, ensure_ascii=False, default=str)),
        "Created": go_time(row["created"]),
        "MIME": mime,
        "Raw": {"From": row["mail_from"], "To": recipients, "Data": data, "Helo": ""},
    }


def _page_args(start: str | None, limit: str | None) -> tuple[int, int]:
    """MailHog ignores values of 0 or less; ``limit`` is capped at 250."""
    limit_n = int_param(limit, 50)
    return int_param(start, 0), min(limit_n, MAX_LIMIT) if limit_n > 0 else 50


def _containing(conn: Connection, where: str, args: list[Any], query: str) -> list[int]:
    """The seqs, newest first, of the messages matching ``where`` whose raw bytes or subject
    contain ``query`` (ASCII case ignored). The raw bytes are read a batch at a time."""
    needle = query.encode("utf-8").lower()  # (bytes.lower folds ASCII only, as LIKE does)
    order = "ORDER BY m.created DESC, m.seq DESC"
    seqs = [
        row[0] for row in conn.execute(f"SELECT m.seq FROM messages m WHERE {where} {order}", args)
    ]
    found: set[int] = set()
    for first in range(0, len(seqs), _SCAN_BATCH):
        batch = seqs[first : first + _SCAN_BATCH]
        rows = conn.execute(
            "SELECT m.seq, m.subject, r.raw, r.codec FROM messages m"
            f" JOIN message_raw r ON r.seq = m.seq WHERE m.seq IN ({','.join('?' * len(batch))})",
            batch,
        )
        found.update(
            seq
            for seq, subject, raw, codec in rows
            if needle in subject.encode("utf-8", "replace").lower()
            or needle in rawcodec.unpack(bytes(raw), codec).lower()
        )
    return [seq for seq in seqs if seq in found]


def _fetch(
    conn: Connection,
    where: str,
    args: list[Any],
    start: int,
    limit: int,
    visible: Visible,
    containing: str | None = None,
) -> Any:
    seen, seen_args = visible_sql(visible, "m.inbox")
    where, args = f"({where}) AND {seen}", [*args, *seen_args]
    if containing is not None:
        matched = _containing(conn, where, args, containing)
        total, page = len(matched), matched[start : start + limit]
        where, args, start = f"m.seq IN ({','.join('?' * len(page)) or 'NULL'})", page, 0
    base = f"FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE {where}"
    if containing is None:
        total = conn.execute(f"SELECT COUNT(*) {base}", args).fetchone()[0]
    rows = conn.execute(
        f"SELECT m.id, m.mail_from, m.recipients, m.created, r.raw, r.codec {base}"
        " ORDER BY m.created DESC, m.seq DESC LIMIT ? OFFSET ?",
        [*args, limit, start],
    ).fetchall()
    return total, [_message(row) for row in rows]


def _page(
    conn: Connection,
    where: str,
    args: list[Any],
    start: int,
    limit: int,
    visible: Visible,
    media_type: str = "text/json",
    containing: str | None = None,
) -> Response:
    """A page of messages as MailHog's envelope, rendered here, on the reader thread: it holds
    every message's raw source (twice), too big to encode on the event loop."""
    total, items = _fetch(conn, where, args, start, limit, visible, containing)
    envelope = {"total": total, "count": len(items), "start": start, "items": items}
    return GoJSONResponse(envelope, media_type=media_type)


@router.get("/api/v2/messages")
async def list_messages(
    sandbox: Sandbox = Depends(get_sandbox),
    start: str | None = Query(None),
    limit: str | None = Query(None),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    start_n, limit_n = _page_args(start, limit)
    return await sandbox.reader.run(lambda conn: _page(conn, "TRUE", [], start_n, limit_n, visible))


@router.get("/api/v2/search")
async def search(
    sandbox: Sandbox = Depends(get_sandbox),
    kind: str = Query(""),
    query: str = Query(""),
    start: str | None = Query(None),
    limit: str | None = Query(None),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    if kind not in _KINDS or not query:
        return Response(status_code=400)
    start_n, limit_n = _page_args(start, limit)
    if kind == "containing":
        where, args, containing = "TRUE", [], query
    else:
        like = "ILIKE" if sandbox.db.dialect == POSTGRESQL else "LIKE"
        where, args, containing = _KINDS[kind].format(like=like), [_like(query)] * 2, None
    return await sandbox.reader.run(
        lambda conn: _page(
            conn, where, args, start_n, limit_n, visible, "application/json", containing
        )
    )


def mailhog_ok() -> Response:
    """MailHog's answer to a delete: 200, ``text/json``, no body."""
    return Response(b"", media_type="text/json")


@router.delete("/api/v1/messages/", include_in_schema=False)
async def delete_without_id() -> Response:
    """A single delete whose id came out empty. Without this route the router would redirect
    it (307, method kept) to ``DELETE /api/v1/messages``, which deletes every message."""
    return not_found()


@router.delete("/api/v1/messages/{message_id}")
async def delete_one(
    message_id: str,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """MailHog's single delete (Mailpit has none): 200 with an empty body, known id or not."""
    await sandbox.mailbox.delete([message_id], visible)
    return mailhog_ok()
