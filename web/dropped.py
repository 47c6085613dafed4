"""Why a message's recipient was dropped: the suppression list that held the address.

The event engine drops a recipient on a suppression list with a ``rejected`` event whose details
name the list (``suppression`` for SendGrid and the core, ``suppressed`` for Mailgun). The
message page shows, per dropped recipient, which provider's list it is (for Mailgun, of which
domain), since when the address is on it (or that it no longer is), and a button to remove it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from mailsandbox.events import providers
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import suppressions as store
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.web.suppressions import Provider, SuppressionList, list_url, provider_for


@dataclass(frozen=True)
class Dropped:
    recipient: str
    reason: str  # the event's: "Bounced Address", "suppress-bounce"…
    provider: Provider
    list: SuppressionList
    scope: str  # Mailgun's domain; '' for the account-wide lists
    since: float | None  # on the list since then; None: no longer on it

    @property
    def list_url(self) -> str:
        return list_url(self.provider, self.list.kind, self.scope, self.recipient)


def _kind(event: DeliveryEvent) -> str:
    if event.type != "rejected":
        return ""
    kind = event.details.get("suppression") or event.details.get("suppressed")
    return kind if isinstance(kind, str) else ""


async def dropped_recipients(
    sandbox: Sandbox, summary: MessageSummary, found: list[DeliveryEvent]
) -> list[Dropped]:
    """The recipients of ``summary`` dropped for being on a suppression list, once each."""
    reasons: dict[str, tuple[str, str]] = {}  # recipient -> (kind, reason), the first drop
    for event in found:
        kind = _kind(event)
        if kind:
            reasons.setdefault(event.recipient, (kind, event.reason))
    if not reasons:
        return []
    provider = provider_for(summary.source)
    scope = providers.get(sandbox, summary.source).suppression_scope(summary)

    def read(conn: sqlite3.Connection) -> list[Dropped]:
        out = []
        for recipient, (kind, reason) in reasons.items():
            entry = store.get(conn, kind, recipient, scope)
            listed = provider.find(kind) or SuppressionList(kind, kind, kind.replace("_", " "))
            since = entry.created if entry else None
            out.append(Dropped(recipient, reason, provider, listed, scope, since))
        return out

    return await sandbox.db.read(read)
