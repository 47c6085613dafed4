"""MIME parsing: raw RFC 5322 bytes in, the fields every view of a message needs out.

Parsing is forgiving by design: a mail catcher sees broken mail, and broken mail must still be
stored and shown. Header values are decoded (RFC 2047, raw UTF-8, or Latin-1 as a last resort),
part ids follow Mailpit's (enmime's) numbering so part URLs are interchangeable with Mailpit's.
The fast ``compat32`` policy is used on purpose: it is several times quicker than
``policy.default`` and we do our own decoding.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.header import Header, decode_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

SNIPPET_BYTES = 200
SEARCH_BODY_CHARS = 100_000

_SURROGATE = re.compile("[\udc80-\udcff]")  # raw 8-bit bytes, as compat32 hands them over
_FOLD = re.compile(r"\r?\n[ \t]*")
_ATOMS = r"[^\s<>()\[\]\\,;:@\"]+"
# One plain mailbox ("Name <a@b>", "\"Name\" <a@b>", "a@b"): parsed without the (slow, general)
# email.utils.getaddresses; anything else (groups, comments, lists) goes the general way.
_SIMPLE_MAILBOX = re.compile(
    rf'\s*(?:(?:"([^"\\]*)"|([^"<>()\[\]\\,;:@]*?))\s*<({_ATOMS}@{_ATOMS})>|({_ATOMS}@{_ATOMS}))\s*'
)


@dataclass(frozen=True)
class Address:
    name: str
    address: str

    def as_json(self) -> dict[str, str]:
        return {"Name": self.name, "Address": self.address}


@dataclass(frozen=True)
class PartInfo:
    part_id: str
    filename: str
    content_type: str
    content_id: str
    disposition: str  # "attachment" | "inline"
    size: int
    md5: str
    sha1: str
    sha256: str


@dataclass
class ParsedMessage:
    message_id: str = ""
    from_: Address = field(default_factory=lambda: Address("", ""))
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    return_path: str = ""
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    html: str = ""
    parts: list[PartInfo] = field(default_factory=list)
    snippet: str = ""
    search_text: str = ""
    x_tags: list[str] = field(default_factory=list)
    inbox_header: str = ""  # X-Sandbox-Inbox

    @property
    def attachments(self) -> list[PartInfo]:
        return [p for p in self.parts if p.disposition == "attachment"]

    @property
    def inlines(self) -> list[PartInfo]:
        return [p for p in self.parts if p.disposition == "inline"]


# --- header decoding ---------------------------------------------------------------------
def _decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if candidate and candidate not in {"unknown-8bit", "us-ascii"}:
            try:
                return data.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def header_text(value: object) -> str:
    """A header value as compat32 hands it over, as text (RFC 2047 words still encoded).

    Raw 8-bit bytes arrive either as surrogate escapes in a ``str`` or, for some headers, as
    an ``email.header.Header`` in the ``unknown-8bit`` charset, whose ``str()`` would turn
    them into U+FFFD: both are decoded as UTF-8 (Latin-1 as a last resort) here.
    """
    if isinstance(value, str):
        return _undo_surrogates(value)
    if isinstance(value, Header):
        try:
            chunks = decode_header(value)
        except Exception:
            return str(value)
        return "".join(
            _decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
            for chunk, charset in chunks
        )
    return "" if value is None else str(value)


def decode_header_value(value: object) -> str:
    """Decode a header value (RFC 2047 words, raw 8-bit) to text; never raises."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else header_text(value)
    if "=?" not in text and not _SURROGATE.search(text):
        return _unfold(text)
    try:
        chunks = decode_header(text)
    except Exception:
        return _unfold(_undo_surrogates(text))
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(_decode_bytes(chunk, charset))
        else:
            out.append(_undo_surrogates(chunk))
    return _unfold("".join(out))


def _undo_surrogates(text: str) -> str:
    """compat32 hands raw 8-bit header bytes over as surrogate escapes; decode them properly."""
    if not _SURROGATE.search(text):
        return text
    return _decode_bytes(text.encode("utf-8", "surrogateescape"), "utf-8")


def _unfold(text: str) -> str:
    if "\n" not in text:
        return text.strip()
    return _FOLD.sub(" ", text).strip()


def raw_header(msg: Message, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    return header_text(value)


def parse_addresses(msg: Message, name: str) -> list[Address]:
    values = msg.get_all(name) or []
    if not values:
        return []
    raw_values = [header_text(v) for v in values]
    if len(raw_values) == 1 and "\n" not in raw_values[0]:
        simple = _SIMPLE_MAILBOX.fullmatch(raw_values[0])
        if simple:
            quoted, bare, angle, lone = simple.groups()
            name = quoted if quoted is not None else " ".join((bare or "").split())
            return [Address(decode_header_value(name), angle or lone)]
    result = []
    try:
        pairs = getaddresses(raw_values)
    except Exception:
        pairs = []
    for display, addr in pairs:
        if not display and not addr:
            continue
        result.append(Address(decode_header_value(display), addr.strip()))
    return result


def parse_from(msg: Message) -> Address:
    addresses = parse_addresses(msg, "From")
    if addresses and addresses[0].address:
        return addresses[0]
    raw = decode_header_value(msg.get("From"))
    return Address(raw, "") if raw else Address("", "")


# --- bodies ------------------------------------------------------------------------------
class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "head", "title"}
    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    text = "".join(parser.parts)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"\s*\n\s*", "\n", text).strip()


def make_snippet(text: str, html_body: str) -> str:
    source = html_to_text(html_body) if html_body else text
    collapsed = " ".join(source[: SNIPPET_BYTES * 8].split())
    if len(source) > SNIPPET_BYTES * 8:
        # The last word of that prefix may be cut; without it, is there enough text? If not,
        # collapse everything (the result is the same either way, this is only quicker).
        whole_words = collapsed[: collapsed.rfind(" ")] if " " in collapsed else ""
        if len(whole_words.encode("utf-8")) > SNIPPET_BYTES:
            collapsed = whole_words + " ..."
        else:
            collapsed = " ".join(source.split())
    encoded = collapsed.encode("utf-8")
    if len(encoded) <= SNIPPET_BYTES:
        return collapsed
    return encoded[:SNIPPET_BYTES].decode("utf-8", "ignore") + "..."


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
    return _decode_bytes(decode_payload(part), part.get_content_charset())


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
    parsed = ParsedMessage(
        message_id=raw_header(msg, "Message-ID").strip().strip("<>").strip(),
        from_=parse_from(msg),
        to=parse_addresses(msg, "To"),
        cc=parse_addresses(msg, "Cc"),
        bcc=parse_addresses(msg, "Bcc"),
        reply_to=parse_addresses(msg, "Reply-To"),
        return_path=raw_header(msg, "Return-Path").strip().strip("<>").strip(),
        subject=decode_header_value(msg.get("Subject")),
    )
    date_header = msg.get("Date")
    if date_header:
        try:
            parsed.date = parsedate_to_datetime(str(date_header))
        except (TypeError, ValueError, IndexError):
            parsed.date = None
    x_tags = decode_header_value(msg.get("X-Tags"))
    parsed.x_tags = [t.strip() for t in x_tags.split(",") if t.strip()]
    parsed.inbox_header = raw_header(msg, "X-Sandbox-Inbox").strip()

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
    parsed.html = html_parts[0] if html_parts else ""
    if text_parts:
        parsed.text = text_parts[0]
    elif parsed.html:
        parsed.text = html_to_text(parsed.html)
    parsed.snippet = make_snippet(parsed.text, parsed.html)
    parsed.search_text = build_search_text(msg, parsed)
    return parsed


_CLEAN_RE = re.compile(r'[\r\n\t<>",;()]')


def clean(value: str) -> str:
    """Mailpit's search normalisation: lower-case, punctuation to spaces, collapse whitespace."""
    return " ".join(_CLEAN_RE.sub(" ", value.lower()).split())


def build_search_text(msg: Message, parsed: ParsedMessage) -> str:
    pieces = [
        decode_header_value(msg.get(name))
        for name in ("From", "Subject", "To", "Cc", "Bcc", "Reply-To", "Return-Path")
    ]
    body = html_to_text(parsed.html) if parsed.html else parsed.text
    pieces.append(body[:SEARCH_BODY_CHARS])
    pieces.extend(p.filename for p in parsed.parts)
    return clean(" ".join(pieces))
