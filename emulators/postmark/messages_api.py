"""Postmark's outbound Messages API over the stored Postmark messages: search
(``/messages/outbound``), details with the message's events, the raw dump, and the opens and
clicks lists. Messages are found by their Postmark ``MessageID`` (kept in their metadata).
Shapes from the postmark.js client's ``OutboundMessage`` models and postmarker's
``OutboundMessageManager``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox import mime
from mailsandbox.emulators.common.events import address_text
from mailsandbox.emulators.postmark import event_format
from mailsandbox.emulators.postmark.errors import MESSAGE_NOT_FOUND, MESSAGES_QUERY, PostmarkError
from mailsandbox.emulators.postmark.sending import DEFAULT_STREAM, submitted_at
from mailsandbox.emulators.postmark.wire import answer, authorize, int_param
from mailsandbox.mime import Address
from mailsandbox.storage import events, messages
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

BY_ID = "source = 'postmark' AND json_extract(metadata_json, '$.postmark.message_id') = ?"
EVENT_TYPES = {
    "queued": "Queued",
    "delivered": "Delivered",
    "deferred": "Transient",
    "bounced": "Bounced",
    "opened": "Opened",
    "clicked": "LinkClicked",
    "complained": "SpamComplaint",
    "unsubscribed": "SubscriptionChanged",
    "rejected": "Bounced",
}


def _people(addresses: list[Address]) -> list[dict[str, str]]:
    return [{"Email": a.address, "Name": a.name} for a in addresses]


def _status(found: list[DeliveryEvent]) -> str:
    return "Sent" if any(e.type != "queued" for e in found) else "Queued"


def outbound_json(message: MessageSummary, found: list[DeliveryEvent]) -> dict[str, Any]:
    m = event_format.meta(message)
    tracking = m.get("tracking") or {}
    out: dict[str, Any] = {
        "MessageID": str(m.get("message_id") or message.id),
        "To": _people(message.to),
        "Cc": _people(message.cc),
        "Bcc": _people(message.bcc),
        "Recipients": list(message.recipients),
        "ReceivedAt": submitted_at(message.created),
        "From": address_text(message.from_) if message.from_.address else "",
        "Subject": message.subject,
        "Attachments": [],
        "Status": _status(found),
        "TrackOpens": bool(tracking.get("open")),
        "TrackLinks": str(tracking.get("links") or "None"),
        "Metadata": dict(m.get("metadata") or {}),
        "MessageStream": str(m.get("stream") or DEFAULT_STREAM),
        "Sandboxed": False,
    }
    if m.get("tag"):
        out["Tag"] = m["tag"]
    return out


def _message_event(event: DeliveryEvent) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if event.type == "delivered":
        details = {"DeliveryMessage": event.reason or "250 OK", "DestinationServer": "",
                   "DestinationIP": ""}  # fmt: skip
    elif event.type in ("bounced", "deferred", "rejected", "complained"):
        details = {"Summary": event.reason, "BounceID": str(event.seq)}
    elif event.type == "clicked":
        details = {"Summary": "", "Link": str(event.details.get("url", "")),
                   "ClickLocation": "HTML"}  # fmt: skip
    elif event.type == "opened":
        details = {"Summary": ""}
    return {
        "Recipient": event.recipient,
        "Type": EVENT_TYPES.get(event.type, event.type),
        "ReceivedAt": submitted_at(event.created),
        "Details": details,
    }


def _by_id(conn: Connection, message_id: str) -> MessageSummary:
    found = messages.summaries_where(conn, BY_ID, (message_id,), limit=1)
    if not found:
        raise PostmarkError(MESSAGE_NOT_FOUND, f"Message '{message_id}' does not exist.")
    return found[0]


def _matches(item: dict[str, Any], q: Any) -> bool:
    recipient = (q.get("recipient") or "").lower()
    sender = (q.get("fromemail") or q.get("fromEmail") or "").lower()
    checks = (
        not recipient or any(recipient in r.lower() for r in item["Recipients"]),
        not sender or sender in item["From"].lower(),
        not q.get("tag") or item.get("Tag") == q.get("tag"),
        not q.get("status") or item["Status"].lower() == q.get("status", "").lower(),
        not q.get("subject") or q.get("subject", "").lower() in item["Subject"].lower(),
        not (stream := q.get("messagestream") or q.get("messageStream"))
        or item["MessageStream"] == stream,
    )
    metadata = {k[9:]: v for k, v in q.items() if k.startswith("metadata_")}
    return all(checks) and all(item["Metadata"].get(k) == v for k, v in metadata.items())


async def search_outbound(request: Request) -> Response:
    caller = authorize(request)
    count = int_param(request, "count", 100, MESSAGES_QUERY)
    offset = int_param(request, "offset", 0, MESSAGES_QUERY, most=10_000)

    def read(conn: Connection) -> list[dict[str, Any]]:
        found = messages.summaries_where(conn, "source = 'postmark'")
        return [outbound_json(m, events.for_message(conn, m.id)) for m in found]

    items = [i for i in await caller.sandbox.db.read(read) if _matches(i, request.query_params)]
    return answer({"TotalCount": len(items), "Messages": items[offset : offset + count]})


async def outbound_details(request: Request) -> Response:
    caller = authorize(request)
    message_id = request.path_params["message"]

    def read(conn: Connection) -> tuple[MessageSummary, list[DeliveryEvent], bytes]:
        message = _by_id(conn, message_id)
        raw = messages.get_raw(conn, message.id) or b""
        return message, events.for_message(conn, message.id), raw

    message, found, raw = await caller.sandbox.db.read(read)
    parsed = mime.parse_message(raw)
    body = outbound_json(message, found)
    body["Attachments"] = [p.filename for p in parsed.attachments]
    body.update(
        TextBody=parsed.text,
        HtmlBody=parsed.html,
        Body=raw.decode("utf-8", "replace"),
        MessageEvents=[_message_event(e) for e in found],
    )
    return answer(body)


async def outbound_dump(request: Request) -> Response:
    caller = authorize(request)
    message_id = request.path_params["message"]

    def read(conn: Connection) -> bytes:
        return messages.get_raw(conn, _by_id(conn, message_id).id) or b""

    return answer({"Body": (await caller.sandbox.db.read(read)).decode("utf-8", "replace")})


async def _engagement(request: Request, kind: str, key: str) -> Response:
    """``/messages/outbound/opens`` and ``/clicks`` (optionally of one message): the Open and
    Click records, as their webhooks carry them."""
    caller = authorize(request)
    count = int_param(request, "count", 100, MESSAGES_QUERY)
    offset = int_param(request, "offset", 0, MESSAGES_QUERY, most=10_000)
    one = request.path_params.get("message")

    def read(conn: Connection) -> list[dict[str, Any]]:
        where, args = ("source = 'postmark'", ()) if one is None else (BY_ID, (one,))
        found = messages.summaries_where(conn, where, args)
        out = []
        for message in found:
            for event in events.for_message(conn, message.id):
                record = event_format.postmark_event(event, message) if event.type == kind else None
                if record is not None:
                    out.append(record)
        return out

    records = await caller.sandbox.db.read(read)
    recipient = request.query_params.get("recipient")
    if recipient:
        records = [r for r in records if recipient.lower() in r["Recipient"].lower()]
    return answer({"TotalCount": len(records), key: records[offset : offset + count]})


async def opens(request: Request) -> Response:
    return await _engagement(request, "opened", "Opens")


async def clicks(request: Request) -> Response:
    return await _engagement(request, "clicked", "Clicks")


ROUTES = [
    ("GET", "/messages/outbound", search_outbound),
    ("GET", "/messages/outbound/opens", opens),
    ("GET", "/messages/outbound/opens/{message}", opens),
    ("GET", "/messages/outbound/clicks", clicks),
    ("GET", "/messages/outbound/clicks/{message}", clicks),
    ("GET", "/messages/outbound/{message}/details", outbound_details),
    ("GET", "/messages/outbound/{message}/dump", outbound_dump),
]
