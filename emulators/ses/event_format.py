"""SES event records (event publishing through a configuration set) rendered from the shared
delivery events, in the JSON SES publishes to SNS (SES developer guide, "Contents of event data
that Amazon SES publishes to Amazon SNS", and its examples).

``queued`` is ``Send`` (once per message, as SES publishes it), ``delivered`` ``Delivery``,
``deferred`` ``DeliveryDelay``, ``bounced`` ``Bounce`` (``Transient`` when temporary, subtype
``Suppressed`` for the simulator's ``suppressionlist@``), ``opened`` ``Open``, ``clicked``
``Click``, ``complained`` ``Complaint``, ``unsubscribed`` ``Subscription``. A ``rejected`` event
is ``Rendering Failure`` for a template that failed to render, a ``Bounce`` (or ``Complaint``)
of subtype ``OnAccountSuppressionList`` for a suppressed address, else ``Reject`` (SES's only
reject reason is "Bad content").
"""

from __future__ import annotations

from typing import Any

from mailsandbox.emulators.common.events import CLIENT_IP, address_text, iso_ms, provider_meta
from mailsandbox.emulators.ses import aws
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary

RENDERING_RULE = "ses:rendering-failure"
SUPPRESSIONLIST_RULE = "builtin:ses:suppressionlist"
HEADERS_KEY = "ses_headers"  # metadata: the header list records carry (a list: not shown by the UI)
REPORTING_MTA = "a8-30.smtp-out.amazonses.com"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) mailsandbox"
SUPPRESSED_DIAGNOSTIC = (
    "Amazon SES did not send the message to this address because it is on the suppression list"
    " for your account. For more information about removing addresses from the suppression"
    " list, see the Amazon SES Developer Guide at"
    " https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html"
)
# event type → (eventType, the v2 MatchingEventTypes name)
TYPES = {
    "send": ("Send", "SEND"),
    "delivered": ("Delivery", "DELIVERY"),
    "deferred": ("DeliveryDelay", "DELIVERY_DELAY"),
    "bounced": ("Bounce", "BOUNCE"),
    "opened": ("Open", "OPEN"),
    "clicked": ("Click", "CLICK"),
    "complained": ("Complaint", "COMPLAINT"),
    "unsubscribed": ("Subscription", "SUBSCRIPTION"),
    "rendering": ("Rendering Failure", "RENDERING_FAILURE"),
    "reject": ("Reject", "REJECT"),
}


def meta(message: MessageSummary) -> dict[str, Any]:
    return provider_meta(message, "ses")


def kind(event: DeliveryEvent, message: MessageSummary) -> str | None:
    """Which SES record ``event`` is (a key of :data:`TYPES`), or None for none at all."""
    if event.type == "queued":
        first = message.recipients[0] if message.recipients else event.recipient
        return "send" if event.recipient == first else None  # one Send per message
    if event.type == "rejected":
        suppressed = event.details.get("suppression")
        if event.details.get("rule") == RENDERING_RULE:
            return "rendering"
        if suppressed == "complaint":
            return "complained"
        return "bounced" if suppressed else "reject"
    return event.type if event.type in TYPES else None


def matching_type(event: DeliveryEvent, message: MessageSummary) -> str | None:
    """The ``MatchingEventTypes`` name that subscribes to ``event`` (``SEND``, ``BOUNCE``...)."""
    found = kind(event, message)
    return TYPES[found][1] if found else None


def _common_headers(message: MessageSummary, message_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"from": [address_text(message.from_)] if message.from_.address else []}
    if message.reply_to:
        out["replyTo"] = [address_text(a) for a in message.reply_to]
    if message.date:
        out["date"] = message.date
    out["to"] = [address_text(a) for a in message.to]
    if message.cc:
        out["cc"] = [address_text(a) for a in message.cc]
    out["messageId"] = message_id
    out["subject"] = message.subject
    return out


def _tags(message: MessageSummary, m: dict[str, Any]) -> dict[str, list[str]]:
    source = str(m.get("source") or message.mail_from)
    tags = {
        "ses:operation": [str(m.get("operation", "SendEmail"))],
        "ses:configuration-set": [str(m.get("configuration_set", ""))],
        "ses:source-ip": [CLIENT_IP],
        "ses:from-domain": [source.rpartition("@")[2].strip(">")],
        "ses:caller-identity": [str(m.get("caller") or "mailsandbox")],
    }
    tags.update({str(k): [str(v)] for k, v in (m.get("tags") or {}).items()})
    return tags


def mail_object(message: MessageSummary, with_headers: bool = True) -> dict[str, Any]:
    m = meta(message)
    message_id = str(m.get("message_id") or message.id)
    source = str(m.get("source") or message.mail_from)
    region = str(m.get("region") or aws.DEFAULT_REGION)
    sender = message.mail_from or source
    mail: dict[str, Any] = {
        "timestamp": iso_ms(message.created),
        "source": source,
        "sourceArn": aws.identity_arn(region, sender.rpartition("@")[2] or sender),
        "sendingAccountId": aws.ACCOUNT_ID,
        "messageId": message_id,
        "destination": list(message.recipients),
        "headersTruncated": False,
    }
    if with_headers:
        headers = message.metadata.get(HEADERS_KEY) or []
        mail["headers"] = [{"name": n, "value": v} for n, v in headers]
        mail["commonHeaders"] = _common_headers(message, message_id)
    mail["tags"] = _tags(message, m)
    return mail


def _bounce(event: DeliveryEvent, at: str, message: MessageSummary) -> dict[str, Any]:
    d = event.details
    if d.get("suppression"):
        subtype, kind_, status = "OnAccountSuppressionList", "Permanent", "5.1.1"
        diagnostic = SUPPRESSED_DIAGNOSTIC
    else:
        temporary = d.get("severity") == "temporary"
        kind_ = "Transient" if temporary else "Permanent"
        subtype = "Suppressed" if d.get("rule") == SUPPRESSIONLIST_RULE else "General"
        status = str(d.get("status") or ("4.4.7" if temporary else "5.1.1"))
        diagnostic = f"smtp; {event.reason}" if event.reason else "smtp; 550 5.1.1 user unknown"
    return {
        "bounceType": kind_,
        "bounceSubType": subtype,
        "bouncedRecipients": [
            {
                "emailAddress": event.recipient,
                "action": "failed",
                "status": status,
                "diagnosticCode": diagnostic,
            }
        ],
        "timestamp": at,
        "feedbackId": f"{meta(message).get('message_id', event.id)}-{event.id}",
        "reportingMTA": f"dsn; {REPORTING_MTA}",
    }


def _complaint(event: DeliveryEvent, at: str, message: MessageSummary) -> dict[str, Any]:
    out: dict[str, Any] = {
        "complainedRecipients": [{"emailAddress": event.recipient}],
        "timestamp": at,
        "feedbackId": f"{meta(message).get('message_id', event.id)}-{event.id}",
    }
    if event.details.get("suppression"):
        out["complaintSubType"] = "OnAccountSuppressionList"
    else:
        out.update(
            {
                "complaintSubType": None,
                "userAgent": USER_AGENT,
                "complaintFeedbackType": "abuse",
                "arrivalDate": at,
            }
        )
    return out


def _delay(event: DeliveryEvent, at: str, message: MessageSummary) -> dict[str, Any]:
    expires = iso_ms(message.created + 14 * 3600)  # SES retries for up to 14 hours
    return {
        "timestamp": at,
        "delayType": "TransientCommunicationFailure",
        "expirationTime": expires,
        "delayedRecipients": [
            {
                "emailAddress": event.recipient,
                "status": str(event.details.get("status") or "4.4.1"),
                "diagnosticCode": f"smtp; {event.reason}" if event.reason else "smtp; 421",
            }
        ],
        "reportingMTA": CLIENT_IP,
    }


def _subscription(event: DeliveryEvent, at: str, message: MessageSummary) -> dict[str, Any]:
    options = meta(message).get("list_management") or {}
    topic = str(options.get("TopicName") or "")
    status = [{"topicName": topic, "subscriptionStatus": "OptOut"}] if topic else []
    before = [{"topicName": topic, "subscriptionStatus": "OptIn"}] if topic else []
    return {
        "contactList": str(options.get("ContactListName") or ""),
        "timestamp": at,
        "source": "UnsubscribeHeader",
        "newTopicPreferences": {"unsubscribeAll": not topic, "topicSubscriptionStatus": status},
        "oldTopicPreferences": {"unsubscribeAll": False, "topicSubscriptionStatus": before},
    }


def ses_event(event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
    """The record SES publishes for ``event``, or None when it publishes none."""
    found = kind(event, message)
    if found is None:
        return None
    name = TYPES[found][0]
    at = iso_ms(event.created)
    record: dict[str, Any] = {"eventType": name}
    if found == "rendering":
        record["mail"] = mail_object(message, with_headers=False)
        template = str(meta(message).get("template", ""))
        record["failure"] = {"errorMessage": event.reason, "templateName": template}
        return record
    record["mail"] = mail_object(message)
    if found == "send":
        record["send"] = {}
    elif found == "delivered":
        processing = max(int((event.created - message.created) * 1000), 0)
        record["delivery"] = {
            "timestamp": at,
            "processingTimeMillis": processing,
            "recipients": [event.recipient],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": REPORTING_MTA,
        }
    elif found == "bounced":
        record["bounce"] = _bounce(event, at, message)
    elif found == "complained":
        record["complaint"] = _complaint(event, at, message)
    elif found == "deferred":
        record["deliveryDelay"] = _delay(event, at, message)
    elif found == "reject":
        record["reject"] = {"reason": "Bad content"}
    elif found in ("opened", "clicked"):
        body: dict[str, Any] = {"ipAddress": CLIENT_IP, "timestamp": at, "userAgent": USER_AGENT}
        if found == "clicked":
            body.update(link=str(event.details.get("url", "")), linkTags={})
        record["open" if found == "opened" else "click"] = body
    elif found == "unsubscribed":
        record["subscription"] = _subscription(event, at, message)
    return record
