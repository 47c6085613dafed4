"""The Amazon SNS API (Query protocol) as far as SES event publishing needs it: topics,
subscriptions of http/https endpoints with their confirmation handshake, and ``Publish``.

``Subscribe`` queues a signed ``SubscriptionConfirmation`` POST to the endpoint (through the
webhook outbox, so it is logged, retried and replayable); the subscription is confirmed by
``ConfirmSubscription`` with its token (what django-anymail does) or by fetching its
SubscribeURL. ``Unsubscribe`` sends the ``UnsubscribeConfirmation``. Subscriptions of other
protocols (email, sqs, lambda...) are kept and listed, never delivered to.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from mailsandbox.emulators.ses import aws, sns_messages, sns_store
from mailsandbox.emulators.ses.errors import SNS_INVALID, SNS_NOT_FOUND, SesError
from mailsandbox.emulators.ses.query import XmlMap
from mailsandbox.emulators.ses.query_context import Action, QueryContext
from mailsandbox.emulators.ses.sns_signing import SIGNER, SnsSigner
from mailsandbox.events import outbox
from mailsandbox.events.access import engine_of
from mailsandbox.events.providers import Target
from mailsandbox.storage.sql import Connection

PROVIDER = "ses"
_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}(\.fifo)?")
TOPIC_ATTRIBUTES = ("DisplayName", "Policy", "DeliveryPolicy", "SignatureVersion", "TracingConfig")
SUBSCRIPTION_ATTRIBUTES = ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope",
                           "DeliveryPolicy", "RedrivePolicy")  # fmt: skip


def signer(ctx: QueryContext) -> SnsSigner:
    found: SnsSigner = ctx.sandbox.extensions[SIGNER]
    return found


def _topic_missing() -> SesError:
    return SesError(SNS_NOT_FOUND, "Topic does not exist")


def _invalid(what: str) -> SesError:
    return SesError(SNS_INVALID, f"Invalid parameter: {what}")


def _topic_arn(ctx: QueryContext, name: str = "TopicArn") -> str:
    arn = str(ctx.require(name, SNS_INVALID))
    if not arn.startswith("arn:aws:sns:") or arn.count(":") != 5:
        raise _invalid(name)
    return arn


def _queue(conn: Connection, sub: sns_store.Subscription, body: dict[str, Any]) -> None:
    outbox.add(conn, PROVIDER, Target(sub.endpoint, sub.arn, True), body)


async def _write(ctx: QueryContext, fn: Any) -> Any:
    """Run a write; wake the webhook dispatcher after it (it may have queued a POST)."""
    result = await ctx.sandbox.db.write(fn)
    engine_of(ctx.sandbox).dispatcher.wake()
    return result


async def create_topic(ctx: QueryContext) -> dict[str, Any]:
    name = str(ctx.require("Name", SNS_INVALID))
    if not _TOPIC_NAME.fullmatch(name):
        raise _invalid("Topic Name")
    arn = aws.topic_arn(ctx.caller.region, name)
    attributes = {str(k): str(v) for k, v in (ctx.get("Attributes") or {}).items()}

    def write(conn: Connection) -> None:
        existing = sns_store.get_topic(conn, arn)
        if existing is None:
            sns_store.save_topic(conn, sns_store.Topic(arn, name, attributes))

    await ctx.sandbox.db.write(write)
    return {"TopicArn": arn}


async def delete_topic(ctx: QueryContext) -> None:
    arn = _topic_arn(ctx)
    await ctx.sandbox.db.write(lambda c: sns_store.delete_topic(c, arn))
    return None


async def list_topics(ctx: QueryContext) -> dict[str, Any]:
    found = await ctx.sandbox.db.read(sns_store.topics)
    return {"Topics": [{"TopicArn": t.arn} for t in found]}


async def get_topic_attributes(ctx: QueryContext) -> dict[str, Any]:
    arn = _topic_arn(ctx)

    def read(conn: Connection) -> tuple[sns_store.Topic | None, list[Any]]:
        return sns_store.get_topic(conn, arn), sns_store.subscriptions(conn, arn)

    topic, subs = await ctx.sandbox.db.read(read)
    if topic is None:
        raise _topic_missing()
    confirmed = sum(1 for s in subs if s.confirmed)
    attributes = XmlMap(
        TopicArn=arn,
        Owner=aws.ACCOUNT_ID,
        DisplayName="",
        SubscriptionsConfirmed=str(confirmed),
        SubscriptionsPending=str(len(subs) - confirmed),
        SubscriptionsDeleted="0",
    )
    attributes.update(topic.attributes)
    return {"Attributes": attributes}


async def set_topic_attributes(ctx: QueryContext) -> None:
    arn = _topic_arn(ctx)
    name = str(ctx.require("AttributeName", SNS_INVALID))
    value = str(ctx.get("AttributeValue", ""))
    if name not in TOPIC_ATTRIBUTES:
        raise _invalid("AttributeName")
    if name == "SignatureVersion" and value not in ("1", "2"):
        raise _invalid("SignatureVersion")

    def write(conn: Connection) -> bool:
        topic = sns_store.get_topic(conn, arn)
        if topic is None:
            return False
        topic.attributes[name] = value
        sns_store.save_topic(conn, topic)
        return True

    if not await ctx.sandbox.db.write(write):
        raise _topic_missing()
    return None


def _listed(sub: sns_store.Subscription) -> dict[str, Any]:
    return {
        "SubscriptionArn": sub.arn if sub.confirmed else "PendingConfirmation",
        "Owner": aws.ACCOUNT_ID,
        "Protocol": sub.protocol,
        "Endpoint": sub.endpoint,
        "TopicArn": sub.topic_arn,
    }


async def subscribe(ctx: QueryContext) -> dict[str, Any]:
    arn = _topic_arn(ctx)
    protocol = str(ctx.require("Protocol", SNS_INVALID)).lower()
    endpoint = str(ctx.get("Endpoint", ""))
    if protocol in ("http", "https") and not endpoint.lower().startswith(f"{protocol}://"):
        raise _invalid("Endpoint")
    attributes = {str(k): str(v) for k, v in (ctx.get("Attributes") or {}).items()}
    wants_arn = str(ctx.get("ReturnSubscriptionArn", "false")).lower() == "true"
    sign = signer(ctx)

    def write(conn: Connection) -> sns_store.Subscription | None:
        topic = sns_store.get_topic(conn, arn)
        if topic is None:
            return None
        sub = sns_store.find_subscription(conn, arn, protocol, endpoint)
        if sub is None:
            sub = sns_store.Subscription(
                f"{arn}:{aws.new_uuid()}", arn, protocol, endpoint, base_url=ctx.base_url
            )
        if sub.confirmed:
            return sub
        sub.token = secrets.token_hex(64)  # SNS's tokens are long hex strings
        sub.base_url = ctx.base_url
        sub.attributes.update(attributes)
        sns_store.save_subscription(conn, sub)
        if protocol in ("http", "https"):
            body = sns_messages.confirmation(
                "SubscriptionConfirmation", topic, sub, sign, time.time()
            )
            _queue(conn, sub, body)
        return sub

    sub = await _write(ctx, write)
    if sub is None:
        raise _topic_missing()
    return {"SubscriptionArn": sub.arn if sub.confirmed or wants_arn else "pending confirmation"}


async def confirm_subscription(ctx: QueryContext) -> dict[str, Any]:
    arn = _topic_arn(ctx)
    token = str(ctx.require("Token", SNS_INVALID))

    def write(conn: Connection) -> str | None:
        if sns_store.get_topic(conn, arn) is None:
            return None
        sub = sns_store.by_token(conn, arn, token)
        if sub is None:
            return ""
        sub.confirmed = True
        sns_store.save_subscription(conn, sub)
        return sub.arn

    found = await ctx.sandbox.db.write(write)
    if found is None:
        raise _topic_missing()
    if not found:
        raise _invalid("Token")
    return {"SubscriptionArn": found}


async def unsubscribe(ctx: QueryContext) -> None:
    arn = str(ctx.require("SubscriptionArn", SNS_INVALID))
    sign = signer(ctx)

    def write(conn: Connection) -> bool:
        sub = sns_store.get_subscription(conn, arn)
        if sub is None:
            return False
        sns_store.delete_subscription(conn, arn)
        if sub.confirmed and sub.protocol in ("http", "https"):
            topic = sns_store.get_topic(conn, sub.topic_arn)
            body = sns_messages.confirmation(
                "UnsubscribeConfirmation", topic, sub, sign, time.time()
            )
            _queue(conn, sub, body)
        return True

    if not await _write(ctx, write):
        raise SesError(SNS_NOT_FOUND, "Subscription does not exist")
    return None


async def list_subscriptions_by_topic(ctx: QueryContext) -> dict[str, Any]:
    arn = _topic_arn(ctx)

    def read(conn: Connection) -> list[sns_store.Subscription] | None:
        if sns_store.get_topic(conn, arn) is None:
            return None
        return sns_store.subscriptions(conn, arn)

    found = await ctx.sandbox.db.read(read)
    if found is None:
        raise _topic_missing()
    return {"Subscriptions": [_listed(s) for s in found]}


async def list_subscriptions(ctx: QueryContext) -> dict[str, Any]:
    found = await ctx.sandbox.db.read(lambda c: sns_store.subscriptions(c))
    return {"Subscriptions": [_listed(s) for s in found]}


async def get_subscription_attributes(ctx: QueryContext) -> dict[str, Any]:
    arn = str(ctx.require("SubscriptionArn", SNS_INVALID))
    sub = await ctx.sandbox.db.read(lambda c: sns_store.get_subscription(c, arn))
    if sub is None:
        raise SesError(SNS_NOT_FOUND, "Subscription does not exist")
    attributes = XmlMap(
        SubscriptionArn=sub.arn,
        TopicArn=sub.topic_arn,
        Owner=aws.ACCOUNT_ID,
        Protocol=sub.protocol,
        Endpoint=sub.endpoint,
        PendingConfirmation=str(not sub.confirmed).lower(),
        ConfirmationWasAuthenticated=str(sub.confirmed).lower(),
        RawMessageDelivery="false",
    )
    attributes.update(sub.attributes)
    return {"Attributes": attributes}


async def set_subscription_attributes(ctx: QueryContext) -> None:
    arn = str(ctx.require("SubscriptionArn", SNS_INVALID))
    name = str(ctx.require("AttributeName", SNS_INVALID))
    if name not in SUBSCRIPTION_ATTRIBUTES:
        raise _invalid("AttributeName")
    value = str(ctx.get("AttributeValue", ""))

    def write(conn: Connection) -> bool:
        sub = sns_store.get_subscription(conn, arn)
        if sub is None:
            return False
        sub.attributes[name] = value
        sns_store.save_subscription(conn, sub)
        return True

    if not await ctx.sandbox.db.write(write):
        raise SesError(SNS_NOT_FOUND, "Subscription does not exist")
    return None


async def publish(ctx: QueryContext) -> dict[str, Any]:
    arn = str(ctx.get("TopicArn") or ctx.get("TargetArn") or "")
    if not arn:
        raise _invalid("TopicArn or TargetArn Reason: no value for required parameter")
    message = str(ctx.require("Message", SNS_INVALID))
    subject = str(ctx.get("Subject", ""))
    message_id = aws.new_uuid()
    sign = signer(ctx)

    def write(conn: Connection) -> bool:
        topic = sns_store.get_topic(conn, arn)
        if topic is None:
            return False
        at = time.time()
        for sub in sns_store.deliverable(conn, [arn]):
            body = sns_messages.notification(topic, sub, sign, message, message_id, at, subject)
            _queue(conn, sub, body)
        return True

    if not await _write(ctx, write):
        raise _topic_missing()
    return {"MessageId": message_id}


ACTIONS: dict[str, Action] = {
    "CreateTopic": create_topic,
    "DeleteTopic": delete_topic,
    "ListTopics": list_topics,
    "GetTopicAttributes": get_topic_attributes,
    "SetTopicAttributes": set_topic_attributes,
    "Subscribe": subscribe,
    "ConfirmSubscription": confirm_subscription,
    "Unsubscribe": unsubscribe,
    "ListSubscriptionsByTopic": list_subscriptions_by_topic,
    "ListSubscriptions": list_subscriptions,
    "GetSubscriptionAttributes": get_subscription_attributes,
    "SetSubscriptionAttributes": set_subscription_attributes,
    "Publish": publish,
}
