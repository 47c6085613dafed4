"""Mailgun's shape of a delivery event: one Events-API item, which is also a webhook's
``event-data`` (esp-contracts.md B2/B3).

Rendered from the shared vocabulary of ``sandbox.storage.events``. The event engine imports
:func:`mailgun_event` and :func:`MAILGUN_WEBHOOK_NAME`; the Events API uses them too.

A ``rejected`` event whose ``details`` carry ``"suppressed": "<kind>"`` (bounce, unsubscribe,
complaint) is Mailgun's ``failed`` / ``permanent`` / ``suppress-<kind>`` with code 605 and an
empty ``message`` (api-events.rst, "Failed (Permanent)"); otherwise it stays ``rejected``.
``details["url"]`` is the clicked link; ``details["severity"]`` may override the failure
severity; ``details["attempt"]`` the attempt number; ``details["status"]`` the enhanced status
code of the reply a rule supplied (``code`` is the reply's own, e.g. 451).

Fields documented for every event, filled from what the send stored: ``storage`` (``url`` +
``key``; the URL the sending client used), ``message.attachments`` (filename, content-type,
size), ``message.recipients`` on ``accepted``, ``message.scheduled-for`` when the send had an
``o:deliverytime``.
"""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

from mailsandbox.emulators.common.events import CLIENT_IP, provider_meta, recipient_of
from mailsandbox.mime import Address
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary

MAILGUN_EVENT_NAMES: dict[str, str] = {
    "queued": "accepted",
    "delivered": "delivered",
    "deferred": "failed",  # severity temporary
    "bounced": "failed",  # severity permanent
    "rejected": "rejected",  # or failed / suppress-* when suppressed
    "opened": "opened",
    "clicked": "clicked",
    "complained": "complained",
    "unsubscribed": "unsubscribed",
}

_WEBHOOK_NAMES = {
    "queued": "accepted",
    "delivered": "delivered",
    "deferred": "temporary_fail",
    "bounced": "permanent_fail",
    "rejected": "permanent_fail",
    "opened": "opened",
    "clicked": "clicked",
    "complained": "complained",
    "unsubscribed": "unsubscribed",
}

_LOG_LEVELS = {"failed": "error", "rejected": "warn", "complained": "warn"}

_CLIENT = {
    "ip": CLIENT_IP,
    "geolocation": {"country": "US", "region": "Unknown", "city": "Unknown"},
    "client-info": {
        "client-type": "browser",
        "client-os": "Linux",
        "device-type": "desktop",
        "client-name": "Chrome",
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) mailsandbox",
        "bot": "",
    },
}


def MAILGUN_WEBHOOK_NAME(event: DeliveryEvent) -> str:  # the agreed interface name
    """The webhook name (``permanent_fail``, ``opened``...) that subscribes to ``event``."""
    return _WEBHOOK_NAMES.get(event.type, event.type)


def _options(message: MessageSummary) -> dict[str, Any]:
    return provider_meta(message, "mailgun")


def _fmt(address: Address) -> str:
    return formataddr((address.name, address.address)) if address.address else ""


def _headers(message: MessageSummary) -> dict[str, str]:
    return {
        "to": ", ".join(_fmt(a) for a in message.to),
        "message-id": message.message_id.strip("<>"),
        "from": _fmt(message.from_),
        "subject": message.subject,
    }


def _suppressed_kind(event: DeliveryEvent) -> str:
    kind = event.details.get("suppressed") or event.details.get("suppression") or ""
    return str(kind) if event.type == "rejected" else ""


# suppress-* failures: api-events.rst shows suppress-bounce; the other two descriptions are
# the sandbox's wording, with the same code [unverified]
SUPPRESSED = {
    "bounce": "Not delivering to previously bounced address",
    "unsubscribe": "Not delivering to unsubscribed address",
    "complaint": "Not delivering to a user who marked your messages as spam",
}
SUPPRESSED_CODE = 605


def _suppressed_failure(event: DeliveryEvent, kind: str) -> dict[str, Any]:
    return {
        "severity": "permanent",
        "reason": f"suppress-{kind}",
        "delivery-status": {
            "attempt-no": 1,
            "message": "",
            "code": SUPPRESSED_CODE,
            "description": SUPPRESSED.get(kind, event.reason),
            "session-seconds": 0.0,
        },
    }


def _failure(event: DeliveryEvent) -> dict[str, Any]:
    temporary = event.type == "deferred" and event.details.get("severity") != "permanent"
    code = event.code or (451 if temporary else 550)
    enhanced = str(event.details.get("status") or ("4.2.2" if temporary else "5.1.1"))
    reply = event.reason or (
        "Temporary failure, will retry" if temporary else "The recipient address does not exist"
    )
    status: dict[str, Any] = {
        "code": code,
        "message": reply,
        "description": "" if temporary else reply,
        "attempt-no": int(event.details.get("attempt", 1)),
        "enhanced-code": enhanced,
    }
    if temporary:
        status["retry-seconds"] = int(event.details.get("retry_seconds") or 600)
    else:
        status["bounce-code"] = enhanced  # "5.1.1", as in api-events.rst's delayed bounce
    return {
        "severity": "temporary" if temporary else "permanent",
        "reason": "generic" if temporary else "bounce",
        "delivery-status": status,
    }


def _type_fields(event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]:
    suppressed = _suppressed_kind(event)
    if event.type == "delivered":
        testmode = bool(_options(message).get("testmode"))
        return {
            "delivery-status": {
                "code": event.code or (650 if testmode else 250),
                "message": "TEST MODE" if testmode else "OK",
                "description": event.reason,
                "attempt-no": int(event.details.get("attempt", 1)),
                "tls": True,
                "certificate-verified": True,
                "mx-host": "mx.mailsandbox.local",
                "session-seconds": 0.05,
                "utf8": True,
            }
        }
    if suppressed:
        return _suppressed_failure(event, suppressed)
    if event.type in ("deferred", "bounced"):
        return _failure(event)
    if event.type == "rejected":
        reason = event.reason or "Rejected by a mailsandbox rule"
        return {"reject": {"reason": reason, "description": reason}}
    if event.type in ("opened", "clicked", "unsubscribed", "complained"):
        extra: dict[str, Any] = dict(_CLIENT)
        if event.type == "clicked":
            extra["url"] = str(event.details.get("url", ""))
        return extra
    return {}


def _message(name: str, message: MessageSummary, options: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "headers": _headers(message),
        "attachments": list(options.get("attachments") or []),
        "size": message.size,
    }
    if name == "accepted":
        out["recipients"] = list(message.recipients)
    scheduled = options.get("scheduled_for")
    if isinstance(scheduled, (int, float)) and not isinstance(scheduled, bool):
        out["scheduled-for"] = int(scheduled)
    return out


def storage(message: MessageSummary, base_url: str = "") -> dict[str, str] | None:
    """The ``storage`` block of a Mailgun message's events: where ``GET`` fetches it and
    ``POST`` resends it (``base_url``, else the URL its sender used)."""
    options = _options(message)
    domain = str(options.get("domain", ""))
    base = base_url or str(options.get("api_url", ""))
    if not (base and domain):
        return None
    return {"url": f"{base}/v3/domains/{domain}/messages/{message.id}", "key": message.id}


def mailgun_event(
    event: DeliveryEvent, message: MessageSummary, base_url: str = ""
) -> dict[str, Any] | None:
    """One Events-API item / webhook ``event-data``; None for a type Mailgun has no name for.

    ``base_url`` (``http://host:port``) is the one the ``storage`` URL uses (default: the one
    the message was sent to)."""
    name = MAILGUN_EVENT_NAMES.get(event.type)
    if name is None:
        return None
    if _suppressed_kind(event):
        name = "failed"
    options = _options(message)
    recipient = recipient_of(event, message)
    fields = _type_fields(event, message)
    item: dict[str, Any] = {
        "event": name,
        "id": event.id,
        "timestamp": event.created,
        "log-level": _LOG_LEVELS.get(name, "info"),
        "recipient": recipient,
        "recipient-domain": recipient.rpartition("@")[2],
        "method": "HTTP" if message.source == "mailgun" else "SMTP",
        "tags": list(options.get("tags", message.tags)),
        "campaigns": [],
        "user-variables": dict(options.get("user_variables", {})),
        "envelope": {
            "sender": message.mail_from,
            "transport": "smtp",
            "targets": recipient,
            "sending-ip": CLIENT_IP,
        },
        "flags": {
            "is-routed": False,
            "is-authenticated": True,
            "is-system-test": False,
            "is-test-mode": bool(options.get("testmode")),
        },
        "message": _message(name, message, options),
        **fields,
    }
    if name == "failed" and "log-level" in item:
        item["log-level"] = "warn" if fields.get("severity") == "temporary" else "error"
    found = storage(message, base_url)
    if found is not None:
        item["storage"] = found
    return item
