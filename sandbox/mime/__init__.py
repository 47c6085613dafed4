"""MIME parsing: raw RFC 5322 bytes in, the fields every view of a message needs out.

Parsing is forgiving by design: a mail catcher sees broken mail, and broken mail must still be
stored and shown. Header values are decoded (RFC 2047, raw UTF-8, or Latin-1 as a last resort),
part ids follow Mailpit's (enmime's) numbering so part URLs are interchangeable with Mailpit's.
The fast ``compat32`` policy is used on purpose: it is several times quicker than
``policy.default`` and we do our own decoding.

:func:`parse_message` runs for every ingested message, in a GIL-bound server, so it avoids
the email package's slow steps where it can vouch for the result: a plain header block is
split by hand, a single-part body attached as is, a multipart body split at its boundary
lines (:func:`_load_fast`; anything less plain goes to the feed parser); each part's type,
disposition, filename and charset are asked once per distinct header value. The result is the
very ``ParsedMessage`` of :func:`_parse_with_stdlib`, the plain way, which the tests compare it
with field by field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from email._encoded_words import decode_b  # the decoder get_payload(decode=True) uses
from email.message import Message
from email.policy import compat32
from email.utils import parsedate_to_datetime
from functools import lru_cache

from mailsandbox.mime.headers import (
    Headers,
    HeaderView,
    decode_bytes,
    decode_header_value,
    header_text,
    parse_addresses,
    parse_from,
    raw_header,
    split_header_block,
)
from mailsandbox.mime.model import Address, ParsedMessage, PartInfo
from mailsandbox.mime.text import SNIPPET_BYTES, clean, html_to_text, make_snippet, snippet_of

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
    "load_tree",
    "make_snippet",
    "parse_addresses",
    "parse_built",
    "parse_from",
    "parse_message",
    "part_text",
    "raw_header",
    "snippet_of",
    "walk_parts",
]

SEARCH_BODY_CHARS = 100_000


def _base64_payload(part: Message) -> bytes | None:
    """What ``get_payload(decode=True)`` gives for an ASCII base64 part, with fewer copies.

    The email package joins ``payload.splitlines()``: a bytes object per 76-character line,
    about twice the payload again in memory (a 37 MB attachment peaked at 270 MB). Removing
    the line breaks in one pass gives the same bytes to the same decoder; None: not such a
    part, let the email package decode it.
    """
    if part.is_multipart():
        return None
    payload = part.get_payload()  # the stored string itself, not a copy
    if not isinstance(payload, str) or not payload.isascii():
        return None
    if str(part.get("content-transfer-encoding", "")).lower() != "base64":
        return None
    encoded = payload.encode("ascii").translate(None, b"\r\n")  # = b"".join(splitlines())
    return decode_b(encoded)[0]


def decode_payload(part: Message) -> bytes:
    try:
        payload = _base64_payload(part) or part.get_payload(decode=True)
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
    """Parse raw bytes into a (compat32) ``Message``, the one the email package would build.

    A single-part message with a plain header block is built without the feed parser (see
    :func:`_load_fast`); anything else is parsed by the email package.
    """
    loaded = _load_fast(raw, multipart=False)
    return loaded[0] if loaded is not None else message_from_bytes(raw, policy=compat32)


def _load_fast(raw: bytes, *, multipart: bool) -> tuple[Message, HeaderView] | None:
    """The message the feed parser would build for ``raw``, and a view of its headers; or None.

    Only for what can be vouched for: a header block of plain fields (see
    :func:`split_header_block`) with CRLF line breaks, ended by the first empty line, and a
    type that is not message/*. For a single part, the feed parser would then store exactly
    those fields, no defects, and the rest after the empty line as the payload, unchanged (it
    splits the body into lines and joins them back); here that costs a split of the head and a
    slice, instead of a regular expression and a generator step per line. With ``multipart``,
    a multipart body is split too (see :func:`_attach_parts`). None means: let the email
    package parse it.
    """
    head_end = raw.find(b"\r\n\r\n")
    if head_end <= 0:
        return None  # no body separator, or no header at all
    head = raw[:head_end].decode("ascii", "surrogateescape")
    msg = _plain_message(head)
    if msg is None:
        return None
    content_type = _facts(msg, _type_fields(msg))[0]
    if content_type.startswith("message/"):
        return None  # the feed parser parses the enclosed message: leave it to it
    # Decoded from a view: a slice of ``raw`` would be one more copy of the whole body.
    body = str(memoryview(raw)[head_end + 4 :], "ascii", "surrogateescape")
    if not content_type.startswith("multipart/"):
        msg.set_payload(body)
    elif not multipart or not _attach_parts(msg, content_type, body):
        return None
    # Raw 8-bit values come out of Message.get as Header objects; the view must hold the same.
    head_view = HeaderView.of(msg.raw_items()) if head.isascii() else HeaderView(msg)
    return msg, head_view


def _plain_message(head: str) -> Message | None:
    """A payload-less ``Message`` with the fields of a plain header block, or None."""
    breaks = head.count("\r\n")
    if head.count("\r") != breaks or head.count("\n") != breaks:
        return None  # a lone CR or LF, where the feed parser breaks lines too
    fields = split_header_block(head)
    if fields is None:
        return None
    msg = Message(policy=compat32)
    for name, value in fields:
        msg.set_raw(name, value)
    return msg


_MAX_NESTING = 8
# What the feed parser's boundaryre allows after the separator, line break aside.
_BLANKS_AFTER_BOUNDARY = re.compile(r"(?:--)?[ \t]*")


def _attach_parts(msg: Message, content_type: str, body: str, depth: int = 0) -> bool:
    """Give ``msg`` the parts the feed parser would find in its multipart ``body``, if simple.

    Simple means: CRLF boundary lines exactly ``--boundary`` or, to close, ``--boundary--``;
    at least one part, no two boundary lines in a row, a close boundary; every part a plain
    header block and an empty line (or the empty line alone), of a type other than message/*
    or multipart/digest. Then the feed parser's result is: those parts, each with its fields
    and, as the payload, the lines after the empty line without the line break before the next
    boundary (RFC 2046 gives it to the boundary); a multipart part is split the same way, its
    body ending where the enclosing boundary line starts (the feed parser stops there too, and
    no enclosing boundary line is inside: they are what cut the parts). Lines after the close
    boundary are the epilogue, no part's business. Preambles and epilogues are not kept: this
    ``Message`` only feeds :func:`parse_message`, which never reads them. False: let the email
    package parse it (``msg`` is then to be dropped).
    """
    if content_type == "multipart/digest":
        return False  # its parts default to message/rfc822
    if depth > _MAX_NESTING:
        return False  # the feed parser's recursion, not ours, meets the deep end
    try:
        boundary = msg.get_boundary()
    except Exception:
        return False
    if not boundary:
        return False
    separator = "--" + boundary
    if "\r" + separator in body:
        return False  # a boundary line after a lone CR
    parts: list[Message] = []
    part_start = -1  # where the lines of the current part start; -1: in the preamble
    # Every line starting with the separator: the first line, and the lines after each LF.
    at = 0 if body.startswith(separator) else _line_after_lf(body, "\n" + separator, 0)
    while at >= 0:
        line_end = body.find("\r\n", at)
        rest = body[at + len(separator) : line_end if line_end >= 0 else len(body)]
        if "\r" in rest or "\n" in rest:
            return False  # a lone CR or LF ends that line earlier
        if rest in ("", "--"):  # a boundary line: the feed parser's boundaryre matches
            if part_start >= 0:
                part = _plain_part(body, part_start, at, depth)
                if part is None:
                    return False
                parts.append(part)
            if rest == "--":
                if not parts:
                    return False  # closed before it opened: the feed parser keeps it as text
                for part in parts:
                    msg.attach(part)
                return True
            if line_end < 0:
                return False  # the body ends on a boundary that opens a part
            part_start = line_end + 2
        elif _BLANKS_AFTER_BOUNDARY.fullmatch(rest):
            return False  # still a boundary line (feedparser's boundaryre): not worth handling
        at = _line_after_lf(body, "\n" + separator, at)
    return False  # no close boundary


def _line_after_lf(body: str, lf_separator: str, start: int) -> int:
    """Where the next line starting with the separator starts; -1 if none; -2 after a lone LF."""
    found = body.find(lf_separator, start)
    if found < 0:
        return -1
    if found == 0 or body[found - 1] != "\r":
        return -2  # a lone LF: the feed parser breaks the line there, the split here does not
    return found + 1


def _plain_part(body: str, start: int, end: int, depth: int) -> Message | None:
    """A part from its lines ``body[start:end]`` (each ending in CRLF), as the feed parser
    builds it; or None. (Offsets, not a slice: a big part's lines are copied only once, into
    its payload.)"""
    if start == end:
        return None  # two boundary lines in a row: the feed parser skips the second one
    if body.startswith("\r\n", start):
        part = Message(policy=compat32)  # no header at all
        payload = start + 2
    else:
        head_end = body.find("\r\n\r\n", start, end)
        if head_end < 0:
            return None  # headers up to the boundary
        plain = _plain_message(body[start:head_end])
        if plain is None:
            return None
        part, payload = plain, head_end + 4
    content_type = _facts(part, _type_fields(part))[0]
    if content_type.startswith("multipart/"):
        # The feed parser parses it up to the enclosing boundary, as it parses the top level.
        nested = body[payload:end]
        return part if _attach_parts(part, content_type, nested, depth + 1) else None
    if content_type.startswith("message/"):
        return None  # the feed parser parses the enclosed message: leave it to it
    part.set_payload(body[payload : end - 2])
    return part


# Per part, the content type, disposition, filename and charset come from the email package's
# own Message methods, but each of those re-scans the header list and re-parses parameters. They
# depend only on the first Content-Type and Content-Disposition fields (and, lacking a type, on
# the part's default type), and mail repeats the same few values, so the answers are cached by
# those raw fields, computed once on a probe Message holding only them: the very same methods,
# hence the very same results. Long values are not cached (bounded memory), nor non-text ones.
_CACHED_FIELD_CHARS = 300
_Field = tuple[str, str]


def _type_fields(part: Message) -> tuple[_Field | None, _Field | None] | None:
    """A part's first Content-Type and Content-Disposition fields, raw; None: do not cache."""
    content_type: _Field | None = None
    disposition: _Field | None = None
    for name, value in part.raw_items():
        lowered = name.lower()
        if lowered == "content-type":
            if content_type is None:
                if not isinstance(value, str) or len(value) > _CACHED_FIELD_CHARS:
                    return None
                content_type = (name, value)
        elif lowered == "content-disposition" and disposition is None:
            if not isinstance(value, str) or len(value) > _CACHED_FIELD_CHARS:
                return None
            disposition = (name, value)
    return content_type, disposition


def _facts(
    part: Message, fields: tuple[_Field | None, _Field | None] | None
) -> tuple[str, str, str]:
    """``(content type, disposition lower-cased or "", decoded filename or "")`` of a part."""
    if fields is None:
        return _facts_of(part)
    return _cached_facts(fields[0], fields[1], part.get_default_type())


def _charset(part: Message, fields: tuple[_Field | None, _Field | None] | None) -> str | None:
    if fields is None:
        return part.get_content_charset()
    return _cached_charset(fields[0])


def _facts_of(part: Message) -> tuple[str, str, str]:
    return part.get_content_type(), (part.get_content_disposition() or "").lower(), _filename(part)


@lru_cache(maxsize=512)
def _cached_facts(
    content_type: _Field | None, disposition: _Field | None, default_type: str
) -> tuple[str, str, str]:
    return _facts_of(_probe(content_type, disposition, default_type))


@lru_cache(maxsize=256)
def _cached_charset(content_type: _Field | None) -> str | None:
    return _probe(content_type, None, "text/plain").get_content_charset()


def _probe(content_type: _Field | None, disposition: _Field | None, default_type: str) -> Message:
    probe = Message(policy=compat32)
    probe.set_default_type(default_type)
    for field in (content_type, disposition):
        if field is not None:
            probe.set_raw(*field)
    return probe


def parse_message(raw: bytes, *, digests: bool = True) -> ParsedMessage:
    """Parse raw bytes; raises only if the email package itself cannot cope.

    Without ``digests``, attachment and inline parts are not decoded: their ``size`` and
    checksums are left empty (readers of a stored message take them from ``message_parts``,
    written at ingest; decoding a 37 MB attachment again costs a second and 100 MB).
    """
    loaded = _load_fast(raw, multipart=True)
    if loaded is None:
        msg = message_from_bytes(raw, policy=compat32)
        return _parse_loaded(msg, HeaderView(msg), fast=True, digests=digests)
    return _parse_loaded(*loaded, fast=True, digests=digests)


def load_tree(raw: bytes) -> Message:
    """The message's tree of parts, for reading one part: multipart bodies are split by
    :func:`_load_fast` where it can vouch for the result (much quicker and smaller than the
    feed parser on big mail; preamble and epilogue are not kept), else the feed parser's."""
    loaded = _load_fast(raw, multipart=True)
    return loaded[0] if loaded is not None else message_from_bytes(raw, policy=compat32)


def _parse_with_stdlib(raw: bytes) -> ParsedMessage:
    """:func:`parse_message` the plain way: the email package's parser, headers looked up on
    its ``Message``, and every part asked through its own methods. The reference the tests
    hold the fast paths to, field by field."""
    msg = message_from_bytes(raw, policy=compat32)
    return _parse_loaded(msg, msg, fast=False)


def _parse_loaded(
    msg: Message, head: Headers, *, fast: bool, digests: bool = True
) -> ParsedMessage:
    parsed = _parse_headers(head)
    text_parts: list[str] = []
    html_parts: list[str] = []
    for part_id, part in walk_parts(msg):
        if part.is_multipart():
            continue
        fields = _type_fields(part) if fast else None
        ctype, disposition, filename = _facts(part, fields)
        content_id = raw_header(part, "Content-ID").strip().strip("<>").strip()
        is_body_candidate = (
            ctype in {"text/plain", "text/html"} and disposition != "attachment" and not filename
        )
        if is_body_candidate:
            body = decode_bytes(decode_payload(part), _charset(part, fields))
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
        payload = decode_payload(part) if digests else b""
        parsed.parts.append(
            PartInfo(
                part_id=part_id,
                filename=filename or content_id,
                content_type=ctype,
                content_id=content_id,
                disposition=kind,
                size=len(payload),
                md5=hashlib.md5(payload).hexdigest() if digests else "",
                sha1=hashlib.sha1(payload).hexdigest() if digests else "",
                sha256=hashlib.sha256(payload).hexdigest() if digests else "",
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


_last_date: tuple[str, datetime | None] = ("", None)


def parse_date(value: str) -> datetime | None:
    """``parsedate_to_datetime(value)``, None if it is no date. The last answer is kept: the
    messages arriving in one second mostly share their Date (an emulator's send writes the
    current second), and the parse was ~1.5 % of a stored send's CPU."""
    global _last_date
    last, parsed = _last_date
    if value == last:
        return parsed
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    _last_date = (value, parsed)
    return parsed


def _parse_headers(head: Headers) -> ParsedMessage:
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
        parsed.date = parse_date(str(date_header))
    x_tags = decode_header_value(head.get("X-Tags"))
    parsed.x_tags = [t.strip() for t in x_tags.split(",") if t.strip()]
    parsed.inbox_header = raw_header(head, "X-Sandbox-Inbox").strip()

    return parsed


def _finish(
    parsed: ParsedMessage, head: Headers, text_parts: list[str], html_parts: list[str]
) -> ParsedMessage:
    parsed.html = html_parts[0] if html_parts else ""
    # The HTML's text is wanted up to three times (body, snippet, search): converted once.
    html_text = html_to_text(parsed.html) if parsed.html else ""
    if text_parts:
        parsed.text = text_parts[0]
    elif parsed.html:
        parsed.text = html_text
    readable = html_text if parsed.html else parsed.text
    parsed.snippet = snippet_of(readable)
    parsed.search_text = _search_text(head, parsed, readable)
    return parsed


def _search_text(msg: Headers, parsed: ParsedMessage, body: str) -> str:
    """Mailpit's search text: address and subject headers, the body's text, the file names."""
    pieces = [
        parsed.subject if name == "Subject" else decode_header_value(msg.get(name))
        for name in ("From", "Subject", "To", "Cc", "Bcc", "Reply-To", "Return-Path")
    ]
    pieces.append(body[:SEARCH_BODY_CHARS])
    pieces.extend(p.filename for p in parsed.parts)
    # clean() collapses whitespace, so empty pieces only add spaces for it to collapse again
    return clean(" ".join([piece for piece in pieces if piece]))
