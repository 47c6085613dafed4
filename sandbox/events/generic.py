"""The generic "new message" webhook: a Mailpit-like JSON summary of every accepted message,
POSTed to each ``--webhook-url`` (and any endpoint stored with provider ``generic``) through the
same durable outbox as the ESP webhooks.
"""

from __future__ import annotations

from typing import Any

from mailsandbox.api.schemas import message_summary
from mailsandbox.events.providers import BaseProvider, Target
from mailsandbox.storage import webhooks
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

NAME = "generic"


class GenericProvider(BaseProvider):
    name = NAME
    batch = False

    def __init__(self, urls: list[str]) -> None:
        self.urls = list(urls)

    def message_targets(self, conn: Connection) -> list[Target]:
        stored = webhooks.list_endpoints(conn, provider=NAME)
        return [Target(url) for url in self.urls] + [
            Target(e.url, e.id) for e in stored if e.enabled
        ]

    def message_payload(self, message: MessageSummary) -> dict[str, Any]:
        return message_summary(message)

    def payload(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
        return None  # delivery events go to the providers' own webhooks
