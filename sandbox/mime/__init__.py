"""MIME parsing: raw RFC 5322 bytes in, the fields every view of a message needs out.

Parsing is forgiving by design: a mail catcher sees broken mail, and broken mail must still be
stored and shown. Header values are decoded (RFC 2047, raw UTF-8, or Latin-1 as a last resort),
part ids follow Mailpit's (enmime's) numbering so part URLs are interchangeable with Mailpit's.
The fast ``compat32`` policy is used on purpose: it is several times quicker than
``policy.default`` and we do our own decoding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import parsedate_to_datetime

from sandbox.mime.headers import (
    Headers,
    HeaderView,
    decode_bytes,
    decode_header_value,
    header_text,
    parse_addresses,
    parse_from,
    raw_header,
)
from sandbox.mime.model import Address, ParsedMessage, PartInfo
from sandbox.mime.text import SNIPPET_BYTES, clean, html_to_text, make_snippet

__all__ = [
    "SNIPPET_BYTES",
    "Address",
    "HeaderView",
    "Headers",
    "ParsedMessage",
    "PartInfo",
    "clean",
    "decode_header_value",
    "decode_payload",
    "find_part",
    "header_text",
    "html_to_text",
    "load",
    "make_snippet",
    "parse_addresses",
    "parse_built",
    "parse_from",
    "parse_message",
    "part_text",
    "raw_header",
    "walk_parts",
]

SEARCH_BODY_CHARS = 100_000


def decode_payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def part_text(part: Message) -> str:
    return decode_bytes(decode_payload(part), part.get_content_charset())


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return decode_header_value(name) if name else ""


def walk_parts(msg: Message, path: str = "") -> Iterator[tuple[str, Message]]:
    """Yield ``(part_id, part)`` for every part, numbered as Mailpit/enmime number them."""
    if msg.is_multipart():
        yield (f"{path}.0" if path else "0"), msg
        children = msg.get_payload()
        if isinstance(children, list):
            for index, child in enumerate(children, 1):
                yield from walk_parts(child, f"{path}.{index}" if path else str(index))
    else:
        yield (path or "0"), msg


def find_part(msg: Message, part_id: str) -> Message | None:
    for pid, part in walk_parts(msg):
        if pid == part_id and not part.is_multipart():
            return part
    return None


def load(raw: bytes) -> Message:
    """Parse raw bytes into a (compat32) ``Message``.

    A single-part message is parsed as its header block plus the body attached as is, which
    is what the feed parser would build, minus its line-by-line walk through the body.
    """
    head_end = raw.find(b"\r\n\r\n")
    if head_end > 0:
        msg = message_from_bytes(raw[: head_end + 2], policy=compat32)
        if (
            msg.get_content_maintype() not in {"multipart", "message"}
            and not msg.defects
            and msg.get_payload() == ""
        ):
            msg.set_payload(raw[head_end + 4 :].decode("ascii", "surrogateescape"))
            return msg
    return message_from_bytes(raw, policy=compat32)


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw bytes; raises only if the email package itself cannot cope."""
    msg = load(raw)
    head = HeaderView(msg)
    parsed = _parse_headers(head)
    text_parts: list[str] = []
    html_parts: list[str] = []
    for part_id, part in walk_parts(msg):
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        content_id = raw_header(part, "Content-ID").strip().strip("<>").strip()
        is_body_candidate = (
            ctype in {"text/plain", "text/html"} and disposition != "attachment" and not filename
        )
        if is_body_candidate:
            body = part_text(part)
            (text_parts if ctype == "text/plain" else html_parts).append(body)
            continue
        if ctype.startswith("multipart/"):
            continue
        if disposition == "attachment":
            kind = "attachment"
        elif disposition == "inline" or content_id:
            kind = "inline"
        elif filename:
            kind = "attachment"
        else:
            continue  # an unnamed, unreferenced part: nothing a reader could open
        payload = decode_payload(part)
        parsed.parts.append(
            PartInfo(
                part_id=part_id,
                filename=filename or content_id,
                content_type=ctype,
                content_id=content_id,
                disposition=kind,
                size=len(payload),
                md5=hashlib.md5(payload).hexdigest(),
                sha1=hashlib.sha1(payload).hexdigest(),
                sha256=hashlib.sha256(payload).hexdigest(),
            )
        )
    return _finish(parsed, head, text_parts, html_parts)


def parse_built(
    headers: list[tuple[str, str]], text_parts: list[str], html_parts: list[str]
) -> ParsedMessage:
    """What :func:`parse_message` returns for a message whose producer knows its structure.

    ``headers`` are the top-level header values exactly as compat32 would hand them over
    (ASCII text, continuation lines included); the bodies are the decoded text/plain and
    text/html parts in order, the message having no other parts. The header fields go
    through the very code :func:`parse_message` runs; only the parse of the bytes is skipped.
    """
    head = HeaderView.of(headers)
    return _finish(_parse_headers(head), head, text_parts, html_parts)


def _parse_headers(head: HeaderView) -> ParsedMessage:
    parsed = ParsedMessage(
        message_id=raw_header(head, "Message-ID").strip().strip("<>").strip(),
        from_=parse_from(head),
        to=parse_addresses(head, "To"),
        cc=parse_addresses(head, "Cc"),
        bcc=parse_addresses(head, "Bcc"),
        reply_to=parse_addresses(head, "Reply-To"),
        return_path=raw_header(head, "Return-Path").strip().strip("<>").strip(),
        subject=decode_header_value(head.get("Subject")),
    )
    date_header = head.get("Date")
    if date_header:
        try:
            parsed.date = parsedate_to_datetime(str(date_header))
        except (TypeError, ValueError, IndexError):
            parsed.date = None
    x_tags = decode_header_value(head.get("X-Tags"))
    parsed.x_tags = [t.strip() for t in x_tags.split(",") if t.strip()]
    parsed.inbox_header = raw_header(head, "X-Sandbox-Inbox").strip()

    return parsed


def _finish(
    parsed: ParsedMessage, head: HeaderView, text_parts: list[str], html_parts: list[str]
) -> ParsedMessage:
    parsed.html = html_parts[0] if html_parts else ""
    if text_parts:
        parsed.text = text_parts[0]
    elif parsed.html:
        parsed.text = html_to_text(parsed.html)
    parsed.snippet = make_snippet(parsed.text, parsed.html)
    parsed.search_text = build_search_text(head, parsed)
    return parsed


def build_search_text(msg: Headers, parsed: ParsedMessage) -> str:
    pieces = [
        parsed.subject if name == "Subject" else decode_header_value(msg.get(name))
        for name in ("From", "Subject", "To", "Cc", "Bcc", "Reply-To", "Return-Path")
    ]
    body = html_to_text(parsed.html) if parsed.html else parsed.text
    pieces.append(body[:SEARCH_BODY_CHARS])
    pieces.extend(p.filename for p in parsed.parts)
    return clean(" ".join(pieces))
