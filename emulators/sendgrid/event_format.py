"""SendGrid Event Webhook wire format (esp-contracts.md A2) rendered from shared delivery events.

The event engine stores events in the shared vocabulary; :func:`sendgrid_event` turns one of
them, plus the message it belongs to, into the JSON object SendGrid would POST. Values the
engine chose (bounce status, click URL, attempt...) travel in ``event.details``.

An ``unsubscribed`` event of a send with ``asm.group_id`` is a ``group_unsubscribe``; a
``subscribed`` one (a removal from the group) a ``group_resubscribe``; both carry
``asm_group_id``. A ``bounce`` has ``type`` ``bounce`` or ``blocked``, ``status`` (the enhanced
code) and ``bounce_classification`` (see :mod:`.bounce_kinds`).
"""

from __future__ import annotations

from typing import Any

from mailsandbox.emulators.common.events import CLIENT_IP, provider_meta, recipient_of
from mailsandbox.emulators.sendgrid import bounce_kinds
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary

SENDGRID_EVENT_NAMES: dict[str, str] = {
    "queued": "processed",
    "delivered": "delivered",
    "deferred": "deferred",
    "bounced": "bounce",
    "rejected": "dropped",
    "opened": "open",
    "clicked": "click",
    "complained": "spamreport",
    "unsubscribed": "unsubscribe",
    "subscribed": "group_resubscribe",
}

DEFAULT_USER_AGENT = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0"
DEFAULT_IP = CLIENT_IP


def _metadata(message: MessageSummary) -> dict[str, Any]:
    return provider_meta(message, "sendgrid")


def asm_group(message: MessageSummary) -> int | None:
    """The unsubscribe group (``asm.group_id``) a message was sent with."""
    asm = _metadata(message).get("asm")
    group = asm.get("group_id") if isinstance(asm, dict) else None
    return group if isinstance(group, int) and not isinstance(group, bool) else None


def sendgrid_name(event: DeliveryEvent, message: MessageSummary) -> str | None:
    """SendGrid's name of ``event`` (None: SendGrid has none)."""
    name = SENDGRID_EVENT_NAMES.get(event.type)
    if name == "unsubscribe" and asm_group(message) is not None:
        return "group_unsubscribe"
    return name


def _smtp_id(message: MessageSummary, meta: dict[str, Any]) -> str:
    if message.message_id:
        return f"<{message.message_id.strip('<>')}>"
    return f"<{meta.get('x_message_id') or message.id}@mailsandbox>"


def _type_fields(event: DeliveryEvent, meta: dict[str, Any]) -> dict[str, Any]:
    """The fields one event type adds to the common ones."""
    d = event.details
    ip = d.get("ip", DEFAULT_IP)
    agent = d.get("useragent", DEFAULT_USER_AGENT)
    if event.type == "queued":
        out: dict[str, Any] = {"send_at": int(meta.get("send_at") or 0)}
        if meta.get("ip_pool_name"):
            out["pool"] = {"name": meta["ip_pool_name"], "id": 1}
        return out
    if event.type == "rejected":
        return {"reason": event.reason or d.get("reason", "Bounced Address"), "status": "5.0.0"}
    if event.type == "delivered":
        return {"response": event.reason or d.get("response", "250 OK"), "tls": 1, "ip": ip}
    if event.type == "deferred":
        return {
            "response": event.reason or d.get("response", "400 try again later"),
            "attempt": str(d.get("attempt", 1)),
            "ip": ip,
        }
    if event.type == "bounced":
        return {
            "reason": event.reason or d.get("reason", "550 5.1.1 The email account does not exist"),
            "status": bounce_kinds.status_of(d),
            "type": bounce_kinds.bounce_type(d),
            "bounce_classification": bounce_kinds.classification(d),
            "ip": ip,
            "tls": 1,
        }
    if event.type == "opened":
        return {"useragent": agent, "ip": ip, "sg_machine_open": False}
    if event.type == "clicked":
        return {
            "url": d.get("url", ""),
            "url_offset": d.get("url_offset", {"index": 0, "type": "html"}),
            "useragent": agent,
            "ip": ip,
        }
    return {}


def _sg_event_id(event: DeliveryEvent) -> str:
    return str(event.details.get("sg_event_id") or event.id)


def _sg_message_id(message: MessageSummary, meta: dict[str, Any]) -> Any:
    return meta.get("sg_message_id") or f"{message.id}.mailsandbox-0"


def sendgrid_ids(event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]:
    """The ids of :func:`sendgrid_event` (``sg_event_id``, ``sg_message_id``, ``smtp-id``, in
    that order), without rendering the rest of it; empty when it would be None."""
    if sendgrid_name(event, message) is None:
        return {}
    meta = _metadata(message)
    return {
        "sg_event_id": _sg_event_id(event),
        "sg_message_id": _sg_message_id(message, meta),
        "smtp-id": _smtp_id(message, meta),
    }


def sendgrid_event(event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
    """One Event Webhook object, or None when the type has no SendGrid equivalent."""
    name = sendgrid_name(event, message)
    if name is None:
        return None
    meta = _metadata(message)
    custom_args = meta.get("custom_args") or {}
    out: dict[str, Any] = {str(k): v for k, v in custom_args.items()}  # SendGrid's keys win
    recipient = recipient_of(event, message)
    out.update(
        {
            "email": recipient,
            "timestamp": int(event.created),
            "event": name,
            "smtp-id": _smtp_id(message, meta),
            "sg_event_id": _sg_event_id(event),
            "sg_message_id": _sg_message_id(message, meta),
        }
    )
    categories = meta.get("categories")
    if categories:
        out["category"] = list(categories)  # v3 sends an array; echoed as sent
    asm = meta.get("asm") or {}
    if isinstance(asm, dict) and asm.get("group_id") is not None:
        out["asm_group_id"] = asm["group_id"]
    if meta.get("template_id"):
        out["template_id"] = meta["template_id"]
    out.update(_type_fields(event, meta))
    return out
