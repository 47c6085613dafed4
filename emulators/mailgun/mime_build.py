"""Build the RFC 5322 message a Mailgun form send describes: text / amp-html / html
alternatives, inline images (``Content-ID`` = file name, as Mailgun does) and attachments,
with ``h:`` headers plus the ``X-Mailgun-Tag`` / ``X-Mailgun-Variables`` headers Mailgun adds.

The serialisation itself is the emulators' shared writer (``..common.mime_build``,
a direct writer that is several times faster than going through ``EmailMessage``), and so is
the pre-computed parse ingest then skips (:func:`build_parsed`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mailsandbox.emulators.common import mime_build as writer
from mailsandbox.emulators.mailgun.forms import FilePart
from mailsandbox.mime import ParsedMessage


@dataclass
class Content:
    """Everything one outgoing message is made of (after templates and substitution)."""

    sender: tuple[str, str]
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    subject: str
    message_id: str  # without angle brackets
    text: str = ""
    html: str = ""
    amp_html: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    attachments: list[FilePart] = field(default_factory=list)
    inlines: list[FilePart] = field(default_factory=list)


def _entry(address: tuple[str, str]) -> dict[str, Any]:
    return {"name": address[0], "email": address[1]}


def _file(part: FilePart, disposition: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "filename": part.filename,
        "type": part.content_type,
        "data": part.data,
        "disposition": disposition,
    }
    if disposition == "inline":
        item["content_id"] = part.filename
    return item


def build(content: Content) -> bytes:
    """The message as bytes (CRLF line endings)."""
    return build_parsed(content)[0]


def build_parsed(content: Content) -> tuple[bytes, ParsedMessage | None]:
    """:func:`build`, and what ``mime.parse_message`` would make of the bytes when the writer
    knows it without parsing (see ``common.mime_build.build_parsed``), else None."""
    headers = {"Message-ID": f"<{content.message_id}>"}
    if content.variables:
        headers["X-Mailgun-Variables"] = json.dumps(content.variables, ensure_ascii=False)
    subject = content.subject
    for name, value in content.headers.items():  # an h: header replaces Mailgun's own
        if name.lower() == "subject":
            subject = value
        elif name.lower() not in ("from", "to", "cc"):
            headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
            headers[name] = value
    envelope = writer.Envelope(
        sender=_entry(content.sender),
        to=[_entry(a) for a in content.to],
        cc=[_entry(a) for a in content.cc],
        subject=subject,
        headers=headers,
        first=[("X-Mailgun-Tag", tag) for tag in content.tags],
    )
    bodies = [
        ("text/plain", content.text),
        ("text/x-amp-html", content.amp_html),
        ("text/html", content.html),
    ]
    files = [_file(p, "inline") for p in content.inlines]
    files += [_file(p, "attachment") for p in content.attachments]
    return writer.build_parsed(envelope, [(kind, text) for kind, text in bodies if text], files)
