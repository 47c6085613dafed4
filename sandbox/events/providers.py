"""The small protocol provider adapters implement so the core can send their webhooks.

The core never imports an emulator: each emulator's ``install()`` registers the function
that makes its adapter with :func:`register` (kept in ``sandbox.extensions
["webhook_providers"]``); the adapter, and the modules it imports, is made at the first
:func:`get` of its name: the first message or event of that provider. The engine asks the
adapter of an event's provider where to send it (``targets``), what to send (``payload``,
stored in the outbox at once) and, at dispatch, how to frame and sign a POST (``request``) and
whether a failed status is worth retrying. :class:`BaseProvider` holds the shared defaults,
including how events feed the suppression lists.

Optional hooks serve providers whose delivery is less direct: ``addressed`` gives each
target its own copy of a payload (SNS puts the topic and the subscription in every
notification), ``message_rule`` decides every recipient of a message before any rule does
(an SES template that failed to render is sent to nobody), ``recipient_rule`` gives the
provider's own test addresses their outcome (Postmark's bounce-testing domain, Resend's
``@resend.dev``), and ``suppression_for`` says which list entry an event adds, if any.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mailsandbox.events.rules import Rule
from mailsandbox.lazy import Lazy
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection
from mailsandbox.storage.suppressions import Suppression

if TYPE_CHECKING:
    from mailsandbox.runtime import Sandbox

REGISTRY_KEY = "webhook_providers"
DAY = 86400.0


@dataclass(frozen=True)
class Target:
    """Where one outbox row goes."""

    url: str
    endpoint_id: str = ""
    signed: bool = False


@dataclass(frozen=True)
class Gate:
    """What a provider decides about a whole message before its recipients' plans are made."""

    drop: tuple[str, dict[str, Any]] | None = None  # every recipient rejected: (reason, details)
    hold: bool = False  # plans written but held until released (a paused SendGrid batch)


OPEN = Gate()


class WebhookProvider(Protocol):
    name: str
    batch: bool  # many payloads per POST, as a JSON array (SendGrid)
    retry_window: float  # seconds after the first attempt before giving up

    def targets(
        self, conn: Connection, event: DeliveryEvent, message: MessageSummary
    ) -> list[Target]: ...

    def payload(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None: ...

    def addressed(
        self, conn: Connection, payload: dict[str, Any], target: Target
    ) -> dict[str, Any]: ...

    def message_rule(self, message: MessageSummary) -> Rule | None: ...

    def recipient_rule(self, recipient: str) -> Rule | None: ...

    def request(
        self, payloads: list[dict[str, Any]], signed: bool
    ) -> tuple[bytes, dict[str, str]]: ...

    def stop_on(self, status: int) -> bool: ...

    def ids(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]: ...

    def suppression_scope(self, message: MessageSummary) -> str: ...

    def suppression_scopes(self, message: MessageSummary) -> tuple[str, ...]: ...

    def suppression_kind(self, event_type: str) -> str | None: ...

    def suppression_for(
        self, event: DeliveryEvent, message: MessageSummary
    ) -> Suppression | None: ...

    def gate(self, conn: Connection, message: MessageSummary) -> Gate: ...

    def drop_reason(self, kinds: list[str]) -> tuple[str, dict[str, Any]] | None: ...

    def scheduled_at(self, message: MessageSummary) -> float | None: ...


class BaseProvider:
    """Defaults shared by adapters: account-wide lists, any non-2xx retried for 24 h."""

    name = "base"
    batch = False
    retry_window = DAY
    kinds = {"bounced": "bounce", "complained": "spam_report", "unsubscribed": "unsubscribe"}
    reasons = {
        "bounce": "Bounced Address",
        "block": "Bounced Address",
        "invalid_email": "Invalid",
        "spam_report": "Spam Reporting Address",
        "complaint": "Spam Reporting Address",
        "unsubscribe": "Unsubscribed Address",
        "global_unsubscribe": "Unsubscribed Address",
    }

    def targets(
        self, conn: Connection, event: DeliveryEvent, message: MessageSummary
    ) -> list[Target]:
        return []

    def payload(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any] | None:
        return None

    def addressed(
        self, conn: Connection, payload: dict[str, Any], target: Target
    ) -> dict[str, Any]:
        """The outbox row of ``payload`` for ``target`` (the same for every target here)."""
        return payload

    def message_rule(self, message: MessageSummary) -> Rule | None:
        """A rule for every recipient of ``message``, ahead of user rules (None: no such)."""
        return None

    def recipient_rule(self, recipient: str) -> Rule | None:
        """The provider's rule for one of its test addresses, after user rules and before the
        built-in magic addresses (None: an ordinary recipient)."""
        return None

    def request(self, payloads: list[dict[str, Any]], signed: bool) -> tuple[bytes, dict[str, str]]:
        body = payloads if self.batch else payloads[0]
        return json.dumps(body).encode(), {"Content-Type": "application/json"}

    def stop_on(self, status: int) -> bool:
        return False

    def ids(self, event: DeliveryEvent, message: MessageSummary) -> dict[str, Any]:
        """Provider ids stored in the event's ``details`` (sg_event_id, smtp-id...)."""
        return {}

    def suppression_scope(self, message: MessageSummary) -> str:
        """The scope of the lists ``message``'s events add to ('' = account-wide)."""
        return ""

    def suppression_scopes(self, message: MessageSummary) -> tuple[str, ...]:
        """Every scope whose lists can drop a recipient of ``message``."""
        return (self.suppression_scope(message),)

    def suppression_kind(self, event_type: str) -> str | None:
        return self.kinds.get(event_type)

    def suppression_for(self, event: DeliveryEvent, message: MessageSummary) -> Suppression | None:
        """The list entry ``event`` adds (a bounce, a complaint...), or None. A temporary
        bounce adds none."""
        kind = self.suppression_kind(event.type)
        if not kind or (event.type == "bounced" and event.details.get("severity") == "temporary"):
            return None
        scope = self.suppression_scope(message)
        return Suppression(kind, event.recipient, scope, event.reason, str(event.code or ""))

    def gate(self, conn: Connection, message: MessageSummary) -> Gate:
        """Whether ``message`` is planned as usual (inside its ingest transaction)."""
        return OPEN

    def scheduled_at(self, message: MessageSummary) -> float | None:
        """When the sender asked the provider to send ``message`` (SendGrid ``send_at``,
        Mailgun ``o:deliverytime``): its recipients' lifecycles start then, not at accept."""
        return None

    def drop_reason(self, kinds: list[str]) -> tuple[str, dict[str, Any]] | None:
        if "whitelist" in kinds:
            return None
        for kind in self.reasons:
            if kind in kinds:
                return self.reasons[kind], {"suppression": kind}
        return None


DEFAULT = BaseProvider()


def register(sandbox: Sandbox, name: str, make: Callable[[], WebhookProvider]) -> None:
    """Called by an emulator's ``install()``: the adapter of provider ``name`` is ``make()``,
    made at its first :func:`get` (``make`` imports the provider's modules)."""
    sandbox.extensions.setdefault(REGISTRY_KEY, {})[name] = Lazy(make)


def get(sandbox: Sandbox, name: str) -> WebhookProvider:
    found: Lazy[WebhookProvider] | None = sandbox.extensions.get(REGISTRY_KEY, {}).get(name)
    return found.get() if found is not None else DEFAULT
