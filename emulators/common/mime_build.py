"""Building the MIME message an API send describes (a SendGrid personalization, a Mailgun
form, an SES ``Simple`` content).

``text/plain`` + ``text/html`` (+ other content types) as ``multipart/alternative``; inline
attachments next to the HTML inside ``multipart/related`` (with their ``Content-ID``); regular
attachments around it all in ``multipart/mixed`` — the structure the ``email`` package builds.
It is serialised directly (CRLF, 7bit or quoted-printable text, base64 binaries, RFC 2047/2231
for non-ASCII names) because building through ``EmailMessage`` costs about a millisecond per
message, most of the send API's time.

The writer is shared by every emulator. :func:`build_parsed` also returns what
``mailsandbox.mime.parse_message`` would make of the bytes when that is known without parsing
them (header lines of a plain shape, text parts only), so ingest can skip the parse.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import secrets
import time
from dataclasses import dataclass, field
from email.header import Header
from email.utils import encode_rfc2231, formataddr, formatdate
from typing import Any

from mailsandbox.mime import ParsedMessage, parse_built

MAX_LINE = 998
FOLD_AT = 76


@dataclass
class Envelope:
    """Everything a message carries besides its content."""

    sender: dict[str, Any]
    to: list[dict[str, Any]]
    cc: list[dict[str, Any]] = field(default_factory=list)
    reply_to: list[dict[str, Any]] = field(default_factory=list)
    subject: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str = ""
    # written before From, in order (Mailgun's X-Mailgun-Tag lines)
    first: list[tuple[str, str]] = field(default_factory=list)


# --- headers -----------------------------------------------------------------------------
def header(name: str, value: str) -> str:
    """One header line; RFC 2047-encoded and folded when not plain short ASCII."""
    if value.isascii() and len(name) + 2 + len(value) <= MAX_LINE and "\n" not in value:
        return f"{name}: {value}\r\n"
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n"


# what email.utils.formataddr quotes a name for (and escapes backslashes and quotes within)
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def unquote_name(name: str) -> str:
    """A display name a client sent as an RFC 5322 quoted-string (django-anymail's
    ``quote_string``: ``"Acme, Inc."``, ``\\"`` and ``\\\\`` escaped), as plain text, so it
    is quoted once, not twice."""
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        return re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


def address(entry: dict[str, Any]) -> str:
    """An ``{email, name}`` object as header text: a name with specials (``Acme, Inc.``) is
    quoted, as SendGrid does; one the client quoted already is not quoted again."""
    name = unquote_name(str(entry.get("name") or ""))
    email = str(entry["email"])
    if email.isascii() and name.isascii() and not _SPECIALS.search(name):
        return f"{name} <{email}>" if name else email  # what formataddr returns for these
    try:
        return formataddr((name, email), charset="utf-8")
    except UnicodeError:  # an internationalised address: written as UTF-8 (SMTPUTF8)
        return f'"{name}" <{email}>' if name else email


def address_header(name: str, entries: list[dict[str, Any]]) -> str:
    """An address-list header, folded between addresses so no line gets too long."""
    out, line = [], len(name) + 2
    for i, entry in enumerate(entries):
        text = address(entry) + ("," if i < len(entries) - 1 else "")
        if i and line + len(text) + 1 > FOLD_AT:
            out.append("\r\n ")
            line = 1
        elif i:
            out.append(" ")
            line += 1
        out.append(text)
        line += len(text)
    return f"{name}: {''.join(out)}\r\n"


def _param(key: str, value: str) -> str:
    if value.isascii():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'; {key}="{escaped}"'
    return f"; {key}*={encode_rfc2231(value, 'utf-8')}"


# --- parts -------------------------------------------------------------------------------
def _split_type(value: str | None, filename: str = "") -> str:
    content_type = (value or "").split(";")[0].strip().lower()
    if "/" not in content_type:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return content_type


def _lf_text(value: str) -> str:
    """Line breaks as LF, and a final one."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value if value.endswith("\n") else value + "\n"


def _plain_7bit(value: str) -> str | None:
    """A text part's body as sent in 7bit (CRLF line endings), or None if it needs encoding."""
    text = _lf_text(value)
    if text.isascii() and (len(text) <= MAX_LINE or max(map(len, text.split("\n"))) <= MAX_LINE):
        return text.replace("\n", "\r\n")
    return None


def _text_part(content_type: str, value: str) -> tuple[bytes, str | None]:
    """The part, and its body as the parser decodes it (None if that is not certain)."""
    plain = _plain_7bit(value)
    if plain is not None:
        cte, body, decoded = "7bit", plain.encode("ascii"), plain
    else:
        cte = "quoted-printable"
        body = binascii.b2a_qp(_lf_text(value).replace("\n", "\r\n").encode("utf-8"), istext=True)
        try:  # what the parser gets back: get_payload(decode=True) is a2b_qp, then UTF-8
            decoded = binascii.a2b_qp(body).decode("utf-8")
        except UnicodeDecodeError:
            decoded = None
    head = f'Content-Type: {content_type}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n'
    return head.encode() + b"\r\n" + body, decoded


def _binary_part(item: dict[str, Any], disposition: str) -> bytes:
    """An attachment: ``content`` in base64, or the bytes themselves as ``data``."""
    filename = str(item["filename"])
    data = item["data"] if "data" in item else base64.b64decode(item["content"])
    head = f"Content-Type: {_split_type(item.get('type'), filename)}\r\n"
    head += "Content-Transfer-Encoding: base64\r\n"
    head += f"Content-Disposition: {disposition}{_param('filename', filename)}\r\n"
    if item.get("content_id"):
        head += f"Content-ID: <{item['content_id']}>\r\n"
    body = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return head.encode() + b"\r\n" + body


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    if len(parts) == 1 and subtype != "related":
        return parts[0]
    boundary = f"===============sg{secrets.token_hex(10)}=="
    sep = f"--{boundary}\r\n".encode()
    body = b"".join(sep + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode()
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'
    return head.encode() + body


# A header line compat32 hands over as ``name`` and the rest (continuation lines included)
_PLAIN_HEADER = re.compile(rb"([!-9;-~]+):[ \t]*([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)\r\n")
# text parts the parser passes over (no name, disposition or Content-ID): neither body nor file
_OTHER_TEXT = re.compile(r"text/[a-z0-9!#$&^_.+-]+")
_BODY_TYPES = ("text/plain", "text/html")


def _body(
    contents: list[tuple[str, str]], attachments: list[dict[str, Any]]
) -> tuple[bytes, list[tuple[str, str | None]]]:
    """The MIME body, and each text part's content type with its decoded body."""
    inline = [a for a in attachments if a.get("disposition") == "inline"]
    regular = [_binary_part(a, "attachment") for a in attachments if a not in inline]
    has_html = any(_split_type(kind) == "text/html" for kind, _ in contents)
    parts, texts = [], []
    for kind, value in contents or [("text/plain", "")]:
        content_type = _split_type(kind)
        part, decoded = _text_part(content_type, value)
        texts.append((content_type, decoded))
        if content_type == "text/html" and inline:
            part = _multipart("related", [part, *(_binary_part(a, "inline") for a in inline)])
        parts.append(part)
    if inline and not has_html:
        regular = [_binary_part(a, "inline") for a in inline] + regular
    return _multipart("mixed", [_multipart("alternative", parts), *regular]), texts


def build(
    envelope: Envelope, contents: list[tuple[str, str]], attachments: list[dict[str, Any]]
) -> bytes:
    """The message's bytes (CRLF line endings)."""
    return b"".join(_head(envelope)) + _body(contents, attachments)[0]


def build_parsed(
    envelope: Envelope, contents: list[tuple[str, str]], attachments: list[dict[str, Any]]
) -> tuple[bytes, ParsedMessage | None]:
    """:func:`build`, and what ``mime.parse_message`` would make of it when that is known
    without parsing (otherwise None: ingest parses the bytes as usual).

    Known means: no attachments; text parts only, each ``text/plain`` or ``text/html`` (the
    bodies) or another ``text/*`` type (passed over by the parser); and header lines of the
    plain shape the parser splits at the colon (``Header`` encodes anything else into it),
    none of them a ``Content-*`` header that would change how the body is read.
    """
    lines = _head(envelope)
    body, texts = _body(contents, attachments)
    raw = b"".join(lines) + body
    if attachments:
        return raw, None
    bodies: dict[str, list[str]] = {"text/plain": [], "text/html": []}
    for content_type, decoded in texts:
        if content_type in _BODY_TYPES:
            if decoded is None:
                return raw, None
            bodies[content_type].append(decoded)
        elif not _OTHER_TEXT.fullmatch(content_type):
            return raw, None
    headers = []
    for line in lines[:-1]:  # the last one is MIME-Version
        match = _PLAIN_HEADER.fullmatch(line)
        if match is None or not line.isascii():
            return raw, None
        name = match[1].decode("ascii")
        if name[:8].lower() == "content-":
            return raw, None
        # what compat32 hands over: leading blanks and the final line break dropped
        headers.append((name, match[2].decode("ascii")))
    return raw, parse_built(headers, bodies["text/plain"], bodies["text/html"])


_date_cache: tuple[int, str] = (-1, "")


def _date_now() -> str:
    """``formatdate(usegmt=True)`` of now: formatted once per second (it has no finer unit)."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, formatdate(second, usegmt=True))
    return _date_cache[1]


def _head(envelope: Envelope) -> list[bytes]:
    """The header lines (each ending in CRLF), MIME-Version last."""
    lines = [header(name, value) for name, value in envelope.first]
    lines += [address_header("From", [envelope.sender]), address_header("To", envelope.to)]
    if envelope.cc:
        lines.append(address_header("Cc", envelope.cc))
    if envelope.reply_to:
        lines.append(address_header("Reply-To", envelope.reply_to))
    lines.append(header("Subject", envelope.subject))
    lowered = {k.lower() for k in envelope.headers}
    if "date" not in lowered:
        lines.append(header("Date", _date_now()))
    if "message-id" not in lowered and envelope.message_id:
        lines.append(header("Message-ID", envelope.message_id))
    lines += [header(name, value) for name, value in envelope.headers.items()]
    lines.append("MIME-Version: 1.0\r\n")
    return [line.encode("utf-8") for line in lines]
