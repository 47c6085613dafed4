"""What a door hands to ingest, and the CPU part of ingest. Every door (SMTP, SendGrid,
Mailgun, REST send, import, ``mailsandbox ingest``) builds an :class:`Inbound` and awaits
:meth:`mailsandbox.mailbox.Mailbox.ingest`, which stores it.

:func:`prepare`: normalise (line endings, Message-ID, Return-Path, envelope-only recipients as
Bcc), parse, decide inbox and tags. A message that cannot be parsed is kept raw with its
error, never refused.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mailsandbox import ids, mime, tagging
from mailsandbox.inbox_rules import Facts, InboxRules
from mailsandbox.storage import messages, rawcodec
from mailsandbox.storage.sql import Connection

log = logging.getLogger(__name__)

# Up to this size a message is parsed and written on the event loop: for small mail that is
# quicker than a thread hand-over (see bench/smtp_ingest.py); bigger ones go to threads, so a
# 28 MB message does not stall every other connection (bench/memory_stalls.py).
INLINE_BYTES = 256 * 1024
_LONE_LF = re.compile(rb"(?<!\r)\n")
_LONE_CR = re.compile(rb"\r(?!\n)")


@dataclass
class Inbound:
    """A message as a door received it, before normalisation."""

    raw: bytes
    mail_from: str = ""
    rcpt_tos: list[str] = field(default_factory=list)
    source: str = "smtp"  # smtp | sendgrid | mailgun | ses | api | cli | inbound | import
    username: str = ""
    inbox: str = "default"
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    # What mime.parse_message(raw) returns, when the door built ``raw`` itself and knows it
    # (see mime.parse_built); ingest then skips the parse. Used only if ``raw`` has CRLF
    # line endings throughout, i.e. is stored as is.
    parsed: mime.ParsedMessage | None = None
    # Imported from an archive: stored as it is (only line endings normalised), no Message-ID
    # added, so exporting it gives the archive's bytes back.
    as_is: bool = False


# A prepare hook runs inside the message's transaction before its rows are written: it may still
# change what is stored (``new.metadata``) and write rows of its own. It runs again if the
# batch is rerun, so it sets what it decides rather than adding to it.
PrepareHook = Callable[[Connection, messages.NewMessage], None]
# A write hook runs inside the message's transaction, after its rows are written.
WriteHook = Callable[[Connection, messages.NewMessage, int], None]


def normalize_line_endings(raw: bytes) -> bytes:
    """Bare LF and bare CR become CRLF (counting first: most mail needs no rewrite)."""
    crlf = raw.count(b"\r\n")
    if raw.count(b"\n") == crlf and raw.count(b"\r") == crlf:
        return raw
    return _LONE_LF.sub(b"\r\n", _LONE_CR.sub(b"\r\n", raw))


def _added_headers(
    parsed: mime.ParsedMessage, mail_from: str, hidden: list[str], hostname: str
) -> tuple[list[str], str]:
    """Headers to prepend (Return-Path, Message-ID, Bcc); returns them and the new Message-ID."""
    added: list[str] = []
    message_id = parsed.message_id
    if not message_id:
        message_id = f"{ids.new_id()}@{hostname}"
        added.append(f"Message-ID: <{message_id}>")
    if mail_from and parsed.return_path != mail_from:
        added.append(f"Return-Path: <{mail_from}>")
    if hidden:
        added.append("Bcc: " + ", ".join(hidden))
    return added, message_id


def _hidden_recipients(parsed: mime.ParsedMessage, rcpt_tos: list[str]) -> list[str]:
    """Envelope recipients that no To/Cc/Bcc header names (they become a Bcc header)."""
    if not rcpt_tos:
        return []
    visible = {a.address.lower() for a in (*parsed.to, *parsed.cc, *parsed.bcc)}
    return [r for r in rcpt_tos if r.lower() not in visible]


def prepare(
    inbound: Inbound,
    hostname: str = "mailsandbox",
    rules: InboxRules | None = None,
    *,
    plus_tags: bool = True,
) -> messages.NewMessage:
    """The CPU part of ingest: normalise, parse, pick the inbox. Pure; safe to run off the
    event loop.

    ``plus_tags`` (``--no-plus-tags`` turns it off): ``user+foo@`` addresses tag the message
    ``foo``."""
    raw = normalize_line_endings(inbound.raw)
    parse_error = ""
    try:
        if inbound.parsed is not None and raw is inbound.raw:
            # a copy: prepare() sets fields and extends bcc; the door's object stays as it was
            parsed = dataclasses.replace(inbound.parsed, bcc=list(inbound.parsed.bcc))
        else:
            parsed = mime.parse_message(raw)
    except Exception as exc:  # the email package gave up: keep the bytes, say why
        log.warning("could not parse message: %s", exc)
        parsed = mime.ParsedMessage()
        parse_error = f"{type(exc).__name__}: {exc}"
    hidden = _hidden_recipients(parsed, inbound.rcpt_tos)
    added, message_id = _added_headers(parsed, inbound.mail_from, hidden, hostname)
    if added and not inbound.as_is:
        raw = "\r\n".join(added).encode("utf-8") + b"\r\n" + raw
        parsed.bcc += [mime.Address("", r) for r in hidden]
        parsed.message_id = message_id
        if inbound.mail_from:
            parsed.return_path = inbound.mail_from
        extra = mime.clean(" ".join([*(a.address for a in parsed.bcc), parsed.return_path]))
        parsed.search_text = f"{parsed.search_text} {extra}".strip()
    inbox = inbound.inbox or "default"
    header_inbox = mime.decode_header_value(parsed.inbox_header) if parsed.inbox_header else ""
    if header_inbox:  # an explicit X-Sandbox-Inbox header wins over credentials
        inbox = header_inbox[:100]
    elif rules and inbox == "default":  # no header, no credentials: the inbox rules decide
        inbox = rules.choose(Facts(raw, parsed, inbound.mail_from, inbound.rcpt_tos)) or inbox
    addresses = [parsed.from_, *parsed.to, *parsed.cc, *parsed.bcc] if plus_tags else []
    tags = tagging.clean_tags([*inbound.tags, *parsed.x_tags, *tagging.plus_tags(addresses)])
    new = messages.NewMessage(
        id=ids.new_id(),
        created=round(time.time(), 3),
        raw=raw,
        parsed=parsed,
        mail_from=inbound.mail_from,
        recipients=list(inbound.rcpt_tos),
        source=inbound.source,
        username=inbound.username,
        inbox=inbox,
        tags=tags,
        metadata=dict(inbound.metadata),
        parse_error=parse_error,
    )
    new.stored = rawcodec.pack(raw)  # compressed here, off the writer (see NewMessage.stored)
    return new


def summary_of(new: messages.NewMessage, seq: int) -> messages.MessageSummary:
    """The summary of a message just written, without reading it back (built once; the
    write hooks and the ``new`` event share it)."""
    if new.summary is not None and new.summary.seq == seq:
        return new.summary
    p = new.parsed
    new.summary = messages.MessageSummary(
        seq=seq,
        id=new.id,
        message_id=p.message_id,
        read=False,
        from_=p.from_,
        to=p.to,
        cc=p.cc,
        bcc=p.bcc,
        reply_to=p.reply_to,
        subject=p.subject,
        created=new.created,
        username=new.username,
        tags=new.tags,
        size=len(new.raw),
        attachments=len(p.attachments),
        inlines=len(p.inlines),
        snippet=p.snippet,
        inbox=new.inbox,
        source=new.source,
        mail_from=new.mail_from,
        recipients=new.recipients,
        return_path=p.return_path,
        date=p.date.isoformat() if p.date else "",
        metadata=new.metadata,
        parse_error=new.parse_error,
    )
    return new.summary
