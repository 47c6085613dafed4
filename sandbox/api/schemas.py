"""Mailpit's JSON shapes (see shared/spec/mailpit-compatible-api.md §2), built from storage types.

Key order follows Mailpit's Go structs; tooling compares exact key sets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailsandbox.mime import Address, ParsedMessage, PartInfo
from mailsandbox.storage.messages import MessageSummary


def go_time(epoch: float) -> str:
    """RFC 3339 in UTC with millisecond precision, trailing zeros trimmed (Go's format)."""
    moment = datetime.fromtimestamp(round(epoch, 3), UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = f"{moment.microsecond // 1000:03d}".rstrip("0")
    return f"{text}.{millis}Z" if millis else f"{text}Z"


def go_date(iso: str, fallback_epoch: float) -> str:
    """A Date header (stored ISO with its own offset) in Go's RFC 3339; else the received time."""
    if not iso:
        return go_time(fallback_epoch)
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return go_time(fallback_epoch)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if moment.utcoffset() == UTC.utcoffset(None) else text


def address(a: Address) -> dict[str, str]:
    return {"Name": a.name, "Address": a.address}


def address_list(items: list[Address], empty: Any) -> Any:
    return [address(a) for a in items] if items else empty


def message_summary(s: MessageSummary, *, empty_list: Any = None) -> dict[str, Any]:
    """MessageSummary (§2.1). ``empty_list``: None in lists/search, [] in the ``new`` event."""
    return {
        "ID": s.id,
        "MessageID": s.message_id,
        "Read": s.read,
        "From": address(s.from_),
        "To": address_list(s.to, empty_list),
        "Cc": address_list(s.cc, empty_list),
        "Bcc": address_list(s.bcc, empty_list),
        "ReplyTo": address_list(s.reply_to, []),
        "Subject": s.subject,
        "Created": go_time(s.created),
        "Username": s.username,
        "Tags": list(s.tags),
        "Size": s.size,
        "Attachments": s.attachments,
        "Snippet": s.snippet,
    }


def attachment(part: PartInfo) -> dict[str, Any]:
    return {
        "PartID": part.part_id,
        "FileName": part.filename or part.content_id,
        "ContentType": part.content_type,
        "ContentID": part.content_id,
        "Size": part.size,
        "Checksums": {"MD5": part.md5, "SHA1": part.sha1, "SHA256": part.sha256},
    }


def message(
    s: MessageSummary, parsed: ParsedMessage, list_unsubscribe: dict[str, Any]
) -> dict[str, Any]:
    """Message (§2.3): the summary row plus what only the raw message holds."""
    return {
        "ID": s.id,
        "MessageID": s.message_id,
        "From": address(s.from_),
        "To": address_list(parsed.to, []),
        "Cc": address_list(parsed.cc, []),
        "Bcc": address_list(parsed.bcc, []),
        "ReplyTo": address_list(parsed.reply_to, []),
        "ReturnPath": parsed.return_path or s.return_path or s.from_.address,
        "Subject": s.subject,
        "ListUnsubscribe": list_unsubscribe,
        "Date": go_date(s.date, s.created),
        "Tags": list(s.tags),
        "Username": s.username,
        "Text": parsed.text,
        "HTML": parsed.html,
        "Size": s.size,
        "Inline": [attachment(p) for p in parsed.inlines],
        "Attachments": [attachment(p) for p in parsed.attachments],
    }


def messages_summary(
    *,
    total: int,
    unread: int,
    matched: int,
    matched_unread: int,
    start: int,
    tags: list[str],
    page: list[MessageSummary],
) -> dict[str, Any]:
    """MessagesSummary (§2.2), the body of ``/messages`` and ``/search``."""
    return {
        "total": total,
        "unread": unread,
        "count": len(page),
        "messages_count": matched,
        "messages_unread": matched_unread,
        "start": start,
        "tags": tags,
        "messages": [message_summary(s) for s in page],
    }


def web_ui_configuration(
    message_relay: dict[str, Any], *, spamassassin: bool = False
) -> dict[str, Any]:
    """WebUIConfiguration (§2.5): ``MessageRelay`` as configured; SpamAssassin is on when
    ``--spamassassin`` names a spamd; the other optional Mailpit features we lack are off."""
    return {
        "Label": "",
        "MessageRelay": message_relay,
        "SpamAssassin": spamassassin,
        "ChaosEnabled": False,
        "DuplicatesIgnored": False,
        "HideDeleteAllButton": False,
    }
