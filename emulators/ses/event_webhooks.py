"""SES's side of the event engine: which SNS subscriptions get an event, and the signed POST.

Made by :func:`adapter` at the provider's first message or event (``install()`` registers it
lazily, see ``emulators.common.lazy_hooks``). An event of a message sent
with a configuration set goes to every confirmed http/https subscription of the SNS topics of
that set's enabled event destinations matching the event's type, one SNS ``Notification`` per
subscription (the same ``MessageId`` for all the subscriptions of one topic, as SNS does).
SNS's own messages (subscription confirmations, ``Publish``) share the outbox and this framing.
A failed POST is retried on the sandbox's schedule for a minute (SNS's default HTTP policy:
three retries, 20 s apart). Hard bounces and complaints feed the account-level suppression
list (scope ``ses``), as the account's ``SuppressedReasons`` say.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from mailsandbox.emulators.ses import config_store, event_format, sns_messages, sns_store
from mailsandbox.emulators.ses.account import ACCOUNT, Account
from mailsandbox.emulators.ses.sns_signing import SIGNER, SnsSigner
from mailsandbox.events.providers import BaseProvider, Target
from mailsandbox.events.rules import Rule
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

NAME = "ses"
SCOPE = "ses"
RETRY_WINDOW = 60.0
_NAMESPACE = uuid.UUID("5a1e2b9c-3d4f-4e6a-8b7c-9d0e1f2a3b4c")


def topic_of(subscription_arn: str) -> str:
    """A subscription ARN is its topic's ARN plus ``:<uuid>``."""
    return subscription_arn.rsplit(":", 1)[0]


class SesWebhooks(BaseProvider):
    name = NAME
    batch = False
    retry_window = RETRY_WINDOW
    reasons = {
        "bounce": "Address on the account-level suppression list (bounce)",
        "complaint": "Address on the account-level suppression list (complaint)",
    }

    def __init__(self, signer: SnsSigner, account: Account) -> None:
        self.signer = signer
        self.account = account

    def suppression_kind(self, event_type: str) -> str | None:
        reasons = self.account.suppressed_reasons
        if event_type == "bounced" and "BOUNCE" in reasons:
            return "bounce"
        if event_type == "complained" and "COMPLAINT" in reasons:
            return "complaint"
        return None

    def suppression_scope(self, message: MessageSummary) -> str:
        return SCOPE

    def message_rule(self, message: MessageSummary) -> Rule | None:
        failure = event_format.meta(message).get("rendering_failure")
        if not failure:
            return None
        return Rule(
            id=event_format.RENDERING_RULE,
            outcome="rejected",
            reason=str(failure),
            origin="builtin",
        )

    def ids(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]:
        message_id = event_format.meta(message).get("message_id")
        return {"ses_message_id": message_id} if message_id else {}

    def targets(
        self, conn: Connection, event: DeliveryEvent, message: MessageSummary
    ) -> list[Target]:
        config_set = event_format.meta(message).get("configuration_set")
        if not config_set:
            return []
        wanted = event_format.matching_type(event, message)
        if wanted is None:
            return []
        topics = config_store.topics_for(conn, str(config_set), wanted)
        subs = sns_store.deliverable(conn, topics)
        return [Target(s.endpoint, s.arn, True) for s in subs]

    def payload(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
        record = event_format.ses_event(event, message)
        if record is None:
            return None
        return {"event_id": event.id, "at": event.created, "record": record}

    def addressed(
        self, conn: Connection, payload: dict[str, Any], target: Target
    ) -> dict[str, Any]:
        sub = sns_store.get_subscription(conn, target.endpoint_id)
        if sub is None:  # gone since targets() read it, in this same transaction: cannot be
            return payload
        topic = sns_store.get_topic(conn, sub.topic_arn)
        message_id = str(uuid.uuid5(_NAMESPACE, f"{payload['event_id']}/{sub.topic_arn}"))
        text = json.dumps(payload["record"], separators=(",", ":"))
        at = float(payload["at"])
        return sns_messages.notification(topic, sub, self.signer, text, message_id, at)

    def request(self, payloads: list[dict[str, Any]], signed: bool) -> tuple[bytes, dict[str, str]]:
        return sns_messages.frame(payloads[0], self.signer)


def adapter(sandbox: Sandbox) -> SesWebhooks:
    signer: SnsSigner = sandbox.extensions[SIGNER]
    account: Account = sandbox.extensions[ACCOUNT]
    return SesWebhooks(signer, account)
