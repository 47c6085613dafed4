"""What is sent upstream: the stored bytes with a few header fields changed, never re-encoded.

The copy drops ``Bcc`` (it names the blind recipients, and the sandbox adds one for envelope-only
recipients) and ``Return-Path`` (RFC 5321 §4.4: added at final delivery, not sent on). A release
also gets a new ``Message-ID`` and ``Date``, as Mailpit's does (``server/apiv1/release.go``): a
mailbox that de-duplicates by Message-ID would otherwise hide a second release of the same
message. Auto-relay keeps both. Header fields are cut out of the header block as bytes, so
every other byte of the message stays as received.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.utils import formatdate, getaddresses

DROPPED = frozenset({b"bcc", b"return-path"})
REPLACED_ON_RELEASE = frozenset({b"message-id", b"date"})


def _fields(head: bytes) -> list[bytes]:
    """The header block split into fields, each with its folded continuation lines."""
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields


def edit_headers(raw: bytes, drop: Iterable[bytes], add: list[str]) -> bytes:
    """``raw`` without the header fields named in ``drop`` (lower case), ``add`` prepended."""
    dropped = frozenset(drop)
    head, sep, body = raw.partition(b"\r\n\r\n")
    kept = [f for f in _fields(head) if f.split(b":", 1)[0].strip().lower() not in dropped]
    added = [line.encode("utf-8") for line in add]
    return b"\r\n".join([*added, *kept]) + sep + body


def relayed_copy(raw: bytes, *, release: bool, message_id: str = "", hostname: str = "") -> bytes:
    """The bytes to send upstream (see the module docstring)."""
    if not release:
        return edit_headers(raw, DROPPED, [])
    added = [f"Message-ID: <{message_id}@{hostname}>", f"Date: {formatdate(localtime=True)}"]
    return edit_headers(raw, DROPPED | REPLACED_ON_RELEASE, added)


def bare_address(entry: str) -> str:
    """The address of ``a@b`` or ``Name <a@b>`` (one mailbox, as Go's ``mail.ParseAddress``
    takes them); "" when it is not one."""
    pairs = getaddresses([entry])
    if len(pairs) != 1:
        return ""
    address = pairs[0][1]
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address):
        return ""
    return address
