"""Postmark's webhook payloads (and bounce records) rendered from the shared delivery events.

One JSON object per event, as Postmark POSTs them (field lists from the postmark.js client's
webhook payload models; bounce types, codes and descriptions from Postmark's Bounce API docs):

- ``delivered``: ``Delivery``;
- ``bounced``: ``Bounce`` of type ``HardBounce`` (or the type a bounce-testing address asks
  for), ``deferred``: ``Bounce`` of type ``Transient``, ``rejected`` by a rule: ``Bounce`` of
  type ``BadEmailAddress``; a recipient dropped because it is on a suppression list gets
  nothing (Postmark refuses those at send time and posts no webhook);
- ``complained``: ``SpamComplaint``; ``opened``: ``Open``; ``clicked``: ``Click``;
  ``unsubscribed``: ``SubscriptionChange`` (``SuppressSending``, ``ManualSuppression``).

Every record has the message's ``MessageID``, ``MessageStream``, ``Metadata`` and ``Tag`` (left
out when the message had none). A bounce's ``ID`` is the event's sequence number, which the
Bounces API uses too.
"""

from __future__ import annotations

from typing import Any

from mailsandbox.emulators.common.events import CLIENT_IP, provider_meta, recipient_of
from mailsandbox.emulators.postmark.sending import DEFAULT_STREAM, submitted_at
from mailsandbox.emulators.postmark.streams import SERVER_ID
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary

RULE_PREFIX = "builtin:postmark:"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) mailsandbox"
# Type → (TypeCode, Name, Description), from Postmark's Bounce API documentation
BOUNCE_TYPES: dict[str, tuple[int, str, str]] = {
    "HardBounce": (1, "Hard bounce", "The server was unable to deliver your message (ex:"
                   " unknown user, mailbox not found)."),
    "Transient": (2, "Message delayed/Undeliverable", "The server could not temporarily"
                  " deliver your message (ex: Message is delayed due to network troubles)."),
    "Unsubscribe": (16, "Unsubscribe request", "Unsubscribe or Remove request."),
    "Subscribe": (32, "Subscribe request", "Subscribe request from someone wanting to get"
                  " added to the mailing list."),
    "AutoResponder": (64, "Auto responder", "Automatic email responder (ex: \"Out of Office\""
                      " or \"On Vacation\")."),
    "AddressChange": (128, "Address change", "The recipient has requested an address change."),
    "DnsError": (256, "DNS error", "A temporary DNS error."),
    "SpamNotification": (512, "Spam notification", "The message was delivered, but was either"
                         " blocked by the user, or classified as spam, bulk mail, or had"
                         " rejected content."),
    "OpenRelayTest": (1024, "Open relay test", "The NDR is actually a test email message to"
                      " see if the mail server is an open relay."),
    "Unknown": (2048, "Unknown", "Unable to classify the NDR."),
    "SoftBounce": (4096, "Soft bounce/Undeliverable", "Unable to temporarily deliver message"
                   " (i.e. mailbox full, account disabled, exceeds quota, out of disk space)."),
    "VirusNotification": (8192, "Virus notification", "The bounce is actually a virus"
                          " notification warning about a virus/code infected message."),
    "ChallengeVerification": (16384, "Spam challenge verification", "The bounce is a"
                              " challenge asking for verification you actually sent the email."),
    "BadEmailAddress": (100000, "Invalid email address", "The address is not a valid email"
                        " address."),
    "SpamComplaint": (100001, "Spam complaint", "The subscriber explicitly marked this message"
                      " as spam."),
    "ManuallyDeactivated": (100002, "Manually deactivated", "The email was manually"
                            " deactivated."),
    "Unconfirmed": (100003, "Registration not confirmed", "The subscriber has not clicked on"
                    " the confirmation link upon registration or import."),
    "Blocked": (100006, "ISP block", "Blocked from this ISP due to content or blacklisting."),
    "SMTPApiError": (100007, "SMTP API error", "An error occurred while accepting an email"
                     " through the SMTP API."),
    "InboundError": (100008, "Processing failed", "Unable to deliver inbound message to"
                     " destination inbound hook."),
    "DMARCPolicy": (100009, "DMARC Policy", "Email rejected due DMARC Policy."),
    "TemplateRenderingFailed": (100010, "Template rendering failed", "An error occurred while"
                                " attempting to render your template."),
}  # fmt: skip
# Types that deactivate the recipient (put it on the stream's suppression list)
DEACTIVATING = frozenset({"HardBounce", "SpamComplaint", "BadEmailAddress", "ManuallyDeactivated"})
_CLIENT = {"Name": "Chrome", "Company": "Google", "Family": "Chrome"}
_OS = {"Name": "Linux", "Company": "Linux Foundation", "Family": "Linux"}
_GEO = {"CountryISOCode": "", "Country": "", "RegionISOCode": "", "Region": "", "City": "",
        "Zip": "", "Coords": "", "IP": CLIENT_IP}  # fmt: skip


def meta(message: MessageSummary) -> dict[str, Any]:
    return provider_meta(message, "postmark")


def bounce_type(event: DeliveryEvent) -> str | None:
    """The Postmark bounce Type of ``event``, or None when it is no bounce record."""
    if event.type == "deferred":
        return "Transient"
    if event.type == "complained":
        return "SpamComplaint"
    if event.type == "rejected":
        return None if event.details.get("suppression") else "BadEmailAddress"
    if event.type != "bounced":
        return None
    rule = str(event.details.get("rule") or "")
    found = rule[len(RULE_PREFIX) :] if rule.startswith(RULE_PREFIX) else ""
    return found if found in BOUNCE_TYPES else "HardBounce"


def _common(message: MessageSummary) -> dict[str, Any]:
    m = meta(message)
    out: dict[str, Any] = {
        "MessageID": str(m.get("message_id") or message.id),
        "ServerID": SERVER_ID,
        "MessageStream": str(m.get("stream") or DEFAULT_STREAM),
    }
    if m.get("tag"):
        out["Tag"] = str(m["tag"])
    out["Metadata"] = dict(m.get("metadata") or {})
    return out


def bounce_record(
    event: DeliveryEvent, message: MessageSummary, inactive: bool | None = None
) -> dict[str, Any] | None:
    """The Bounce (or SpamComplaint) record of ``event`` as webhooks and the Bounces API show
    it (``inactive``: whether the address is deactivated now; by default, whether this type
    deactivates it)."""
    kind = bounce_type(event)
    if kind is None:
        return None
    code, name, description = BOUNCE_TYPES[kind]
    recipient = recipient_of(event, message)
    details = event.reason or ("smtp;550 5.1.1 The email account that you tried to reach does"
                               " not exist" if kind == "HardBounce" else description)  # fmt: skip
    active_now = kind in DEACTIVATING if inactive is None else inactive
    record: dict[str, Any] = {
        "RecordType": "SpamComplaint" if kind == "SpamComplaint" else "Bounce",
        "ID": event.seq,
        "Type": kind,
        "TypeCode": code,
        "Name": name,
        **_common(message),
        "Description": description,
        "Details": details,
        "Email": recipient,
        "From": message.mail_from or message.from_.address,
        "BouncedAt": submitted_at(event.created),
        "DumpAvailable": False,
        "Inactive": active_now,
        "CanActivate": True,
        "Subject": message.subject,
        "Content": "",
    }
    return record


def postmark_event(event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
    """The webhook body Postmark POSTs for ``event``, or None when it posts none."""
    at = submitted_at(event.created)
    recipient = recipient_of(event, message)
    if event.type == "delivered":
        details = event.reason or "250 OK"
        return {"RecordType": "Delivery", **_common(message), "Recipient": recipient,
                "DeliveredAt": at, "Details": f"smtp;{details}"}  # fmt: skip
    if event.type in ("opened", "clicked"):
        record: dict[str, Any] = {
            "RecordType": "Open" if event.type == "opened" else "Click",
            **_common(message),
            "Client": dict(_CLIENT),
            "OS": dict(_OS),
            "Platform": "Desktop",
            "UserAgent": USER_AGENT,
            "Geo": dict(_GEO),
            "ReceivedAt": at,
            "Recipient": recipient,
        }
        if event.type == "opened":
            record.update(FirstOpen=True, ReadSeconds=0)
        else:
            record.update(ClickLocation="HTML", OriginalLink=str(event.details.get("url", "")))
        return record
    if event.type == "unsubscribed":
        return {"RecordType": "SubscriptionChange", **_common(message), "ChangedAt": at,
                "Recipient": recipient, "Origin": "Recipient", "SuppressSending": True,
                "SuppressionReason": "ManualSuppression"}  # fmt: skip
    return bounce_record(event, message)


# shared event type → the webhook trigger that subscribes to it
TRIGGERS = {
    "delivered": "Delivery",
    "bounced": "Bounce",
    "deferred": "Bounce",
    "rejected": "Bounce",
    "complained": "SpamComplaint",
    "opened": "Open",
    "clicked": "Click",
    "unsubscribed": "SubscriptionChange",
}
