"""Resend's webhook payloads rendered from the shared delivery events, and an email's
``last_event``.

``{"type": "email.<event>", "created_at": "<ISO 8601>", "data": {...}}`` with ``data`` as the
resend SDKs type it (``email_id``, ``from``, ``to``, ``subject``, ``created_at``,
``message_id``, ``tags`` as an object, the custom ``headers`` as ``[{"name", "value"}]`` when
the email had any, which django-anymail reads its tags and metadata from): ``queued`` is
``email.sent``, ``delivered`` ``email.delivered``, ``deferred`` ``email.delivery_delayed``,
``bounced`` ``email.bounced`` (``bounce: {message, subType, type}``), ``complained``
``email.complained``, ``opened`` ``email.opened``, ``clicked`` ``email.clicked`` (``click``).
A recipient dropped because it is on the suppression list is ``email.bounced`` of subtype
``Suppressed`` (the message django-anymail reads as "blocked"); one a rule rejects is
``email.failed``. Resend has no unsubscribe event.
"""

from __future__ import annotations

from typing import Any

from mailsandbox.emulators.common.events import CLIENT_IP, iso_ms, provider_meta
from mailsandbox.emulators.resend.sending import event_data_time
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary

SUPPRESSED_RULE = "builtin:resend:suppressed"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) mailsandbox"
TYPES = {
    "queued": "email.sent",
    "delivered": "email.delivered",
    "deferred": "email.delivery_delayed",
    "bounced": "email.bounced",
    "complained": "email.complained",
    "opened": "email.opened",
    "clicked": "email.clicked",
}
EVENT_TYPES = (*TYPES.values(), "email.failed")
HARD_BOUNCE = (
    "The recipient's email provider sent a hard bounce message, which means the email address"
    " does not exist or is not valid."
)
SUPPRESSED = (
    "Resend has suppressed sending to this address because it has previously bounced or marked"
    " an email as spam."
)
# last_event of an email, by its newest event
LAST = {
    "queued": "sent",
    "delivered": "delivered",
    "deferred": "delivery_delayed",
    "bounced": "bounced",
    "complained": "complained",
    "opened": "opened",
    "clicked": "clicked",
}


def meta(message: MessageSummary) -> dict[str, Any]:
    return provider_meta(message, "resend")


def _suppressed(event: DeliveryEvent) -> bool:
    return bool(event.details.get("suppression")) or event.details.get("rule") == SUPPRESSED_RULE


def event_type(event: DeliveryEvent) -> str | None:
    """The ``type`` of ``event``'s webhook (``email.delivered``...), or None for none."""
    if event.type == "rejected":
        return "email.bounced" if _suppressed(event) else "email.failed"
    return TYPES.get(event.type)


def _data(message: MessageSummary) -> dict[str, Any]:
    m = meta(message)
    data: dict[str, Any] = {
        "created_at": event_data_time(float(m.get("created") or message.created)),
        "email_id": m.get("id"),
        "from": m.get("from"),
        "to": m.get("to") or [],
        "subject": message.subject,
        "message_id": f"<{message.message_id}>" if message.message_id else "",
    }
    tags = m.get("tags") or []
    if tags:
        data["tags"] = {t["name"]: t["value"] for t in tags}
    headers = m.get("headers") or []
    if headers:
        data["headers"] = [{"name": n, "value": v} for n, v in headers]
    return data


def resend_event(event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
    """The webhook body Resend POSTs for ``event``, or None when it posts none."""
    kind = event_type(event)
    if kind is None:
        return None
    data = _data(message)
    if kind == "email.bounced":
        suppressed = _suppressed(event)
        data["bounce"] = {
            "message": SUPPRESSED if suppressed else HARD_BOUNCE,
            "subType": "Suppressed" if suppressed else "General",
            "type": "Permanent",
        }
        if event.reason and not suppressed:
            data["bounce"]["diagnosticCode"] = [event.reason]
    elif kind == "email.failed":
        data["failed"] = {"reason": event.reason or "Rejected"}
    elif kind == "email.clicked":
        data["click"] = {
            "ipAddress": CLIENT_IP,
            "link": str(event.details.get("url", "")),
            "timestamp": iso_ms(event.created),
            "userAgent": USER_AGENT,
        }
    return {"type": kind, "created_at": iso_ms(event.created), "data": data}


def last_event(message: MessageSummary, found: list[DeliveryEvent]) -> str:
    """What ``GET /emails/{id}`` says happened last to the email."""
    m = meta(message)
    if m.get("canceled"):
        return "canceled"
    later = [e for e in found if e.type != "queued"]
    if not later:
        scheduled = m.get("scheduled_at")
        if scheduled and all(e.created < float(scheduled) for e in found):
            return "scheduled"
        return "sent" if found else "queued"
    newest = max(later, key=lambda e: (e.created, e.seq))
    if newest.type == "rejected":
        return "suppressed" if _suppressed(newest) else "failed"
    return LAST.get(newest.type, newest.type)
