"""The HTTP messages SNS POSTs to a subscribed endpoint, in its exact envelope (SNS developer
guide, "Parsing message formats"), and how the dispatcher frames and signs them.

A row of the webhook outbox holds the envelope without its ``Signature`` (plus the private
``_subscription`` and ``_raw`` keys); :func:`frame` signs it at each attempt. A retried message
keeps its ``MessageId`` and ``Timestamp``, as SNS's do. With raw message delivery on, a
notification's body is its ``Message`` alone.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from mailsandbox.emulators.common.events import iso_ms
from mailsandbox.emulators.ses import aws
from mailsandbox.emulators.ses.aws import LINK_PATH
from mailsandbox.emulators.ses.sns_signing import SnsSigner
from mailsandbox.emulators.ses.sns_store import Subscription, Topic

USER_AGENT = "Amazon Simple Notification Service Agent"
ORDER = (
    "Type",
    "MessageId",
    "Token",
    "TopicArn",
    "Subject",
    "Message",
    "SubscribeURL",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "UnsubscribeURL",
)


def subscribe_url(base_url: str, topic_arn: str, token: str) -> str:
    base = base_url.rstrip("/")
    return f"{base}{LINK_PATH}?Action=ConfirmSubscription&TopicArn={quote(topic_arn)}&Token={token}"


def unsubscribe_url(base_url: str, subscription_arn: str) -> str:
    base = base_url.rstrip("/")
    return f"{base}{LINK_PATH}?Action=Unsubscribe&SubscriptionArn={quote(subscription_arn)}"


def _version(topic: Topic | None) -> str:
    return "2" if topic is not None and topic.attributes.get("SignatureVersion") == "2" else "1"


def confirmation(
    kind: str, topic: Topic | None, sub: Subscription, signer: SnsSigner, at: float
) -> dict[str, Any]:
    """A ``SubscriptionConfirmation`` or ``UnsubscribeConfirmation`` envelope."""
    if kind == "SubscriptionConfirmation":
        text = (
            f"You have chosen to subscribe to the topic {sub.topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        )
    else:
        text = (
            f"You have chosen to deactivate subscription {sub.arn}.\nTo cancel this operation"
            " and restore the subscription, visit the SubscribeURL included in this message."
        )
    return {
        "Type": kind,
        "MessageId": aws.new_uuid(),
        "Token": sub.token,
        "TopicArn": sub.topic_arn,
        "Message": text,
        "SubscribeURL": subscribe_url(sub.base_url, sub.topic_arn, sub.token),
        "Timestamp": iso_ms(at),
        "SignatureVersion": _version(topic),
        "SigningCertURL": signer.cert_url(sub.base_url),
        "_subscription": sub.arn,
    }


def notification(
    topic: Topic | None,
    sub: Subscription,
    signer: SnsSigner,
    message: str,
    message_id: str,
    at: float,
    subject: str = "",
) -> dict[str, Any]:
    """A ``Notification`` envelope for one subscription."""
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": sub.topic_arn,
    }
    if subject:
        envelope["Subject"] = subject
    envelope.update(
        {
            "Message": message,
            "Timestamp": iso_ms(at),
            "SignatureVersion": _version(topic),
            "SigningCertURL": signer.cert_url(sub.base_url),
            "UnsubscribeURL": unsubscribe_url(sub.base_url, sub.arn),
            "_subscription": sub.arn,
        }
    )
    if sub.raw:
        envelope["_raw"] = True
    return envelope


def frame(envelope: dict[str, Any], signer: SnsSigner) -> tuple[bytes, dict[str, str]]:
    """The POST body and headers of an outbox envelope, signed now."""
    public = {k: v for k, v in envelope.items() if not k.startswith("_")}
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": USER_AGENT,
        "x-amz-sns-message-type": str(public.get("Type", "")),
        "x-amz-sns-message-id": str(public.get("MessageId", "")),
        "x-amz-sns-topic-arn": str(public.get("TopicArn", "")),
    }
    subscription = envelope.get("_subscription")
    if subscription and public.get("Type") != "SubscriptionConfirmation":
        headers["x-amz-sns-subscription-arn"] = str(subscription)
    if envelope.get("_raw") and public.get("Type") == "Notification":
        headers["x-amz-sns-rawdelivery"] = "true"
        return str(public.get("Message", "")).encode("utf-8"), headers
    public["Signature"] = signer.sign(public)
    ordered = {k: public[k] for k in ORDER if k in public}
    body = json.dumps(ordered, indent=2, separators=(",", " : "), ensure_ascii=False)
    return body.encode("utf-8"), headers
