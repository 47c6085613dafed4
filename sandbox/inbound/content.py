"""What the providers post of an inbound message, read once from its stored bytes: headers (raw
block and decoded list), the text and HTML bodies, every file (attachments and inline parts,
with their bytes), and the reply split Mailgun posts as ``stripped-*`` (the new text without
the quoted original and the signature).

The split is a small version of what Mailgun does (its talon library): the quote starts at an
``On ... wrote:`` line, an ``-----Original Message-----`` line or the first ``>`` line; the
signature is what follows a ``--`` line. In HTML, ``<blockquote>`` elements and Gmail's
``gmail_quote`` block are the quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailsandbox import mime

_QUOTE_START = re.compile(
    r"^(?:On\b.{0,300}\bwrote:\s*|-{2,}\s*Original Message\s*-{2,}\s*|>.*)$", re.IGNORECASE
)
_SIGNATURE = re.compile(r"^--\s*$")
_HTML_QUOTE = re.compile(
    r"<blockquote\b.*</blockquote>|<div[^>]*\bgmail_quote\b.*", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class FilePart:
    filename: str
    content_type: str
    content_id: str  # without angle brackets; "" when the part has none
    data: bytes


@dataclass
class InboundContent:
    header_block: str  # the header lines as received, LF-separated
    headers: list[tuple[str, str]]  # decoded values, in order
    text: str  # the text body, or a text rendering of the HTML when there is none
    html: str
    has_text: bool  # whether the message has a text/plain body of its own
    files: list[FilePart] = field(default_factory=list)

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), "")


def read(raw: bytes) -> InboundContent:
    """Headers, bodies and files of stored mail (never raises on broken mail)."""
    end = raw.find(b"\r\n\r\n")
    block = (raw if end < 0 else raw[:end]).decode("utf-8", "replace").replace("\r\n", "\n")
    try:
        msg = mime.load(raw)
        parsed = mime.parse_message(raw)
    except Exception:  # stored raw because it could not be parsed: post what we can
        return InboundContent(block, [], raw[end + 4 :].decode("utf-8", "replace"), "", True)
    files = []
    for info in parsed.parts:
        part = mime.find_part(msg, info.part_id)
        if part is not None:
            data = mime.decode_payload(part)
            files.append(FilePart(info.filename, info.content_type, info.content_id, data))
    has_text = any(
        part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment"
        for _, part in mime.walk_parts(msg)
        if not part.is_multipart()
    )
    headers = [(k, mime.decode_header_value(v)) for k, v in msg.items()]
    return InboundContent(block, headers, parsed.text, parsed.html, has_text, files)


def split_reply(text: str) -> tuple[str, str]:
    """(the new text without the quoted original and the signature, the signature)."""
    lines = text.replace("\r\n", "\n").split("\n")
    cut = next((i for i, line in enumerate(lines) if _QUOTE_START.match(line)), len(lines))
    body = lines[:cut]
    sign = next((i for i in range(len(body) - 1, -1, -1) if _SIGNATURE.match(body[i])), None)
    signature = "\n".join(body[sign:]).strip() if sign is not None else ""
    if sign is not None:
        body = body[:sign]
    return "\n".join(body).strip(), signature


def strip_html_quote(html: str) -> str:
    """The HTML without its quoted original."""
    return _HTML_QUOTE.sub("", html)
