"""The message SES would deliver for a send, as bytes, and the header list its events carry.

Structured content (v2 ``Simple`` or a rendered template, v1 ``Message``) is written by the
emulators' shared MIME writer. A raw message is taken as sent, except what SES itself changes:
it writes its own ``Message-ID`` (``<message-id@email.amazonses.com>``) and ``Date`` over any
given (SES developer guide, "Amazon SES header fields"), and it acts on and drops the
``X-SES-CONFIGURATION-SET`` and ``X-SES-MESSAGE-TAGS`` headers.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from mailsandbox.emulators.common import mime_build
from mailsandbox.emulators.common.addresses import entry
from mailsandbox.mime import ParsedMessage
from mailsandbox.mime.headers import split_header_block

CONFIG_SET_HEADER = "x-ses-configuration-set"
TAGS_HEADER = "x-ses-message-tags"
REPLACED = {"message-id", "date", CONFIG_SET_HEADER, TAGS_HEADER}
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(r"\r\n[ \t]+")


@dataclass
class Structured:
    """Content SES turns into MIME: subject, text, html, extra headers, attachments."""

    subject: str = ""
    text: str = ""
    html: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


def attachment(item: dict[str, Any]) -> dict[str, Any]:
    """A v2 ``Attachment`` as the writer takes it (``RawContent`` is base64 in the JSON)."""
    try:
        data = base64.b64decode(item.get("RawContent") or b"", validate=False)
    except (binascii.Error, ValueError):
        data = b""
    out: dict[str, Any] = {
        "filename": str(item.get("FileName") or "attachment"),
        "data": data,
        "type": item.get("ContentType"),
        "disposition": "inline" if item.get("ContentDisposition") == "INLINE" else "attachment",
    }
    if item.get("ContentId"):
        out["content_id"] = str(item["ContentId"]).strip("<>")
    return out


def build(
    sender: str,
    to: list[str],
    cc: list[str],
    reply_to: list[str],
    content: Structured,
    message_id: str,
) -> tuple[bytes, ParsedMessage | None]:
    """The MIME message of structured content (and its parse when known, see the writer)."""
    envelope = mime_build.Envelope(
        sender=entry(sender),
        to=[entry(a) for a in to],
        cc=[entry(a) for a in cc],
        reply_to=[entry(a) for a in reply_to],
        subject=content.subject,
        headers=dict(content.headers),
        message_id=f"<{message_id}>",
    )
    bodies = [("text/plain", content.text), ("text/html", content.html)]
    return mime_build.build_parsed(
        envelope, [(k, v) for k, v in bodies if v] or [("text/plain", "")], content.attachments
    )


def split_head(raw: bytes) -> tuple[bytes, bytes]:
    """``(header block, rest)`` of a message (the rest starts at the blank line's break)."""
    found = _HEAD_END.search(raw)
    if found is None:
        return raw, b""
    return raw[: found.start()], raw[found.start() :]


def fields(head: bytes) -> list[tuple[str, str]] | None:
    """The header fields of a header block (or of a whole message: its head is taken), values
    still folded; None when the block is not plain fields."""
    head = split_head(head)[0]
    text = head.decode("ascii", "surrogateescape")
    if "\n" in text.replace("\r\n", ""):
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return split_header_block(text)


def unfolded(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Header values on one line, decoded as UTF-8 (what SES event records list)."""
    return [
        (name, _FOLD.sub(" ", value).encode("ascii", "surrogateescape").decode("utf-8", "replace"))
        for name, value in fields
    ]


def rewrite_raw(raw: bytes, message_id: str) -> tuple[bytes, list[tuple[str, str]]]:
    """A raw message with SES's ``Message-ID`` and ``Date``; and its header fields before the
    change, unfolded (``X-SES-*`` included: the caller acts on them)."""
    head, rest = split_head(raw)
    found = fields(head)
    date = formatdate(time.time(), usegmt=True)
    ours = f"Message-ID: <{message_id}>\r\nDate: {date}\r\n".encode()
    if found is None:  # not plain fields: leave it to the parser, put ours first
        return ours + raw, []
    kept = "".join(f"{n}: {v}\r\n" for n, v in found if n.lower() not in REPLACED)
    body = rest[2:] if rest.startswith(b"\r\n") else rest[1:]  # drop the head's last break
    return ours + kept.encode("ascii", "surrogateescape") + body, unfolded(found)
