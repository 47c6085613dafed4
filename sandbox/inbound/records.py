"""Reading back what inbound routing decided for a message: the rules that matched (kept in its
metadata) with where each of their deliveries stands (the outbox rows), for the message page
and ``GET /api/v1/message/{id}/inbound``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailsandbox.events import outbox
from mailsandbox.inbound.model import META_KEY
from mailsandbox.logins import Visible
from mailsandbox.storage import messages
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection


@dataclass
class MatchView:
    provider: str
    rule: str
    description: str
    recipient: str
    actions: list[str]
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # outbox.states rows
    stored: str = ""  # Mailgun store(): the domain its stored-messages API serves it under


@dataclass
class InboundView:
    inbound: bool  # labelled inbound (matched a rule, or composed as inbound mail)
    matches: list[MatchView]


def records_of(metadata: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The match records in a message's metadata; None when it is not inbound mail."""
    found = metadata.get(META_KEY)
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else None


def load(conn: Connection, message_id: str, visible: Visible = None) -> InboundView | None:
    """None when there is no such message (in the ``visible`` inboxes)."""
    summary = messages.get_summary(conn, message_id, visible)
    if summary is None:
        return None
    records = records_of(summary.metadata)
    if records is None:
        return InboundView(False, [])
    ids = [str(i) for r in records for i in r.get("deliveries", [])]
    states = outbox.states(conn, ids)
    views = [
        MatchView(
            provider=str(r.get("provider", "")),
            rule=str(r.get("rule", "")),
            description=str(r.get("description", "")),
            recipient=str(r.get("recipient", "")),
            actions=[str(a) for a in r.get("actions", [])],
            deliveries=[states[i] for i in map(str, r.get("deliveries", [])) if i in states],
            stored=str(r.get("stored", "")),
        )
        for r in records
    ]
    return InboundView(True, views)


def stored_message(conn: Connection, message_id: str) -> tuple[MessageSummary, bytes] | None:
    """A stored message's summary and bytes; None when it is not (or no longer) stored."""
    summary = messages.get_summary(conn, message_id)
    raw = messages.get_raw(conn, message_id) if summary is not None else None
    return None if summary is None or raw is None else (summary, raw)
