"""The event engine: each recipient's lifecycle after accept, and every event's side effects.

At ingest (a write hook, inside the message's own transaction) it checks the suppression lists
(a suppressed recipient is ``rejected``, i.e. SendGrid ``dropped`` / Mailgun ``failed
suppress-*``), picks the outcome (user rule, else magic address, else ``delivered``) and writes
the timed steps to ``event_schedule``; a background loop applies steps when due. Recording an
event (:meth:`EventEngine.record`) stores it, feeds the suppression lists (bounce, complaint,
unsubscribe) and writes the provider's webhook rows to the outbox, all in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any

from sandbox import bus, ids, ingest
from sandbox.events import outbox, plans, providers, rule_store
from sandbox.events.dispatcher import Dispatcher
from sandbox.events.generic import GenericProvider
from sandbox.events.magic import magic_rule
from sandbox.events.rules import DELIVERY, Rule, RuleBook
from sandbox.storage import events, messages, suppressions
from sandbox.storage.events import DeliveryEvent
from sandbox.storage.messages import MessageSummary

if TYPE_CHECKING:
    from sandbox.runtime import Sandbox

log = logging.getLogger(__name__)
MAX_IDLE = 1.0


def _flag(meta: dict[str, Any], *path: str) -> bool:
    node: Any = meta
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node is True or (isinstance(node, str) and node.lower() in ("yes", "true", "1"))


def sandbox_mode(message: MessageSummary) -> bool:
    """SendGrid ``mail_settings.sandbox_mode.enable``: validated only, no events at all."""
    return _flag(message.metadata, "sendgrid", "mail_settings", "sandbox_mode", "enable")


def test_mode(message: MessageSummary) -> bool:
    """Mailgun ``o:testmode``: not delivered; a ``delivered`` event with code 650."""
    return _flag(message.metadata, "mailgun", "testmode")


class EventEngine:
    def __init__(self, sandbox: Sandbox, rules: RuleBook, retry_schedule: list[float]) -> None:
        self.sandbox = sandbox
        self.rules = rules
        self.generic = GenericProvider(sandbox.settings.webhook_url)
        self.dispatcher = Dispatcher(sandbox, retry_schedule, self.generic)
        self._wake = asyncio.Event()
        self._lock = threading.Lock()
        self._pending_publish: dict[str, list[DeliveryEvent]] = {}

    # --- recording (inside a write transaction) -------------------------------------------
    def record(
        self, conn: sqlite3.Connection, event: DeliveryEvent, message: MessageSummary
    ) -> DeliveryEvent:
        """Store ``event`` with its suppression and webhook side effects (same transaction)."""
        provider = providers.get(self.sandbox, message.source)
        event.provider = event.provider or message.source
        event.id = event.id or ids.new_id()
        event.created = event.created or round(time.time(), 6)
        event.details.update(provider.ids(event, message))
        events.add(conn, event)
        kind = provider.suppression_kind(event.type)
        if kind and not (event.type == "bounced" and event.details.get("severity") == "temporary"):
            suppressions.add(
                conn,
                suppressions.Suppression(
                    kind=kind,
                    email=event.recipient,
                    scope=provider.suppression_scope(message),
                    reason=event.reason,
                    code=str(event.code or ""),
                    details={"message_id": message.id, "event_id": event.id},
                ),
            )
        outbox.enqueue_event(conn, provider, event, message)
        return event

    def on_ingest(self, conn: sqlite3.Connection, new: messages.NewMessage, seq: int) -> None:
        """Write hook: webhooks for the accept, then a plan for every recipient."""
        message = ingest.summary_of(new, seq)
        if sandbox_mode(message):
            conn.execute("DELETE FROM events WHERE message_id = ?", (new.id,))
            return
        for target in self.generic.message_targets(conn):
            payload = self.generic.message_payload(message)
            outbox.add(conn, self.generic.name, target, payload, message_id=message.id)
        provider = providers.get(self.sandbox, message.source)
        recorded = self._queued(conn, provider, message)
        scopes = (provider.suppression_scope(message),)
        for recipient in new.recipients:
            kinds = suppressions.suppressed_kinds(conn, recipient, scopes)
            drop = provider.drop_reason(kinds) if kinds else None
            if drop is None:
                self._schedule(conn, message, recipient, self._rule_for(message, recipient))
                continue
            reason, details = drop
            event = DeliveryEvent(message.id, "rejected", recipient, reason=reason, details=details)
            recorded.append(self.record(conn, event, message))
        with self._lock:
            self._pending_publish[new.id] = recorded

    def _queued(
        self,
        conn: sqlite3.Connection,
        provider: providers.WebhookProvider,
        message: MessageSummary,
    ) -> list[DeliveryEvent]:
        """The core's ``queued`` rows of ``message``, given provider ids and sent to webhooks."""
        queued = events.for_message(conn, message.id)
        for event in queued:
            extra = provider.ids(event, message)
            if extra:
                event.details.update(extra)
                conn.execute(
                    "UPDATE events SET details_json = ? WHERE seq = ?",
                    (json.dumps(event.details), event.seq),
                )
            outbox.enqueue_event(conn, provider, event, message)
        return queued

    def _rule_for(self, message: MessageSummary, recipient: str) -> Rule:
        if test_mode(message):
            return Rule(id="builtin:testmode", outcome="delivered", origin="builtin")
        rule = self.rules.first(
            DELIVERY,
            recipient=recipient,
            sender=message.mail_from or message.from_.address,
            subject=message.subject,
            source=message.source,
        )
        return rule or magic_rule(recipient) or Rule(id="builtin:default", outcome="delivered")

    def _schedule(
        self, conn: sqlite3.Connection, message: MessageSummary, recipient: str, rule: Rule
    ) -> None:
        now = time.time()
        for step in plans.steps_for(rule):
            details = dict(step.details, rule=rule.id)
            code, reason = step.code, step.reason
            if test_mode(message) and step.type == "delivered":
                code, reason, details["test_mode"] = 650, "OK", True
            conn.execute(
                "INSERT INTO event_schedule (message_id, recipient, type, due, reason, code,"
                " details_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    message.id,
                    recipient,
                    step.type,
                    now + step.offset,
                    reason,
                    code,
                    json.dumps(details),
                ),
            )

    def apply_due(self, conn: sqlite3.Connection, now: float) -> list[DeliveryEvent]:
        """Apply every scheduled step that is due (runs in one write transaction)."""
        rows = conn.execute(
            "SELECT * FROM event_schedule WHERE due <= ? ORDER BY due, seq LIMIT 500",
            (now,),
        ).fetchall()
        cache: dict[str, MessageSummary | None] = {}
        out: list[DeliveryEvent] = []
        for row in rows:
            conn.execute("DELETE FROM event_schedule WHERE seq = ?", (row["seq"],))
            message_id = row["message_id"]
            if message_id not in cache:
                cache[message_id] = messages.get_summary(conn, message_id)
            message = cache[message_id]
            if message is None:
                continue  # the message was deleted meanwhile: its lifecycle ends
            event = DeliveryEvent(
                message_id,
                row["type"],
                row["recipient"],
                reason=row["reason"],
                code=row["code"],
                details=json.loads(row["details_json"]),
            )
            out.append(self.record(conn, event, message))
        return out

    # --- async side ------------------------------------------------------------------------
    async def load_rules(self) -> None:
        """At start: the rules added live before the last stop, after the file's."""
        for rule in await self.sandbox.db.read(rule_store.load):
            self.rules.add(rule)

    async def add_rule(self, rule: Rule) -> Rule:
        await self.sandbox.db.write(lambda conn: rule_store.save(conn, rule))
        return self.rules.add(rule)

    async def remove_rule(self, rule_id: str) -> bool:
        stored = await self.sandbox.db.write(lambda conn: rule_store.delete(conn, rule_id))
        return self.rules.remove(rule_id) or stored

    def announce(self, recorded: list[DeliveryEvent]) -> None:
        for event in recorded:
            self.sandbox.bus.publish(bus.BusEvent(bus.DELIVERY_EVENT, event))
        if recorded:
            self.dispatcher.wake()

    def on_bus(self, event: bus.BusEvent) -> None:
        """After a message is committed: announce its first events, wake the loops."""
        if event.type != bus.NEW:
            return
        with self._lock:
            recorded = self._pending_publish.pop(event.data.id, [])
        self.announce(recorded)
        self.dispatcher.wake()
        self._wake.set()

    async def trigger(
        self, message_id: str, type_: str, recipient: str = "", reason: str = "", **details: Any
    ) -> DeliveryEvent | None:
        """Record an event on a stored message now (API, UI, tracking links)."""

        def write(conn: sqlite3.Connection) -> DeliveryEvent | None:
            message = messages.get_summary(conn, message_id)
            if message is None:
                return None
            who = recipient or (message.recipients[0] if message.recipients else "")
            template = plans.step(type_, 0, reason, **details)
            event = DeliveryEvent(
                message_id,
                type_,
                who,
                reason=template.reason,
                code=template.code,
                details=dict(template.details, manual=True),
            )
            return self.record(conn, event, message)

        event = await self.sandbox.db.write(write)
        if event is not None:
            self.announce([event])
        return event

    async def run(self) -> None:
        """Apply scheduled steps as they fall due (resumes whatever a restart left pending)."""
        while True:
            try:
                recorded = await self.sandbox.db.write(lambda c: self.apply_due(c, time.time()))
                self.announce(recorded)
                next_due = await self.sandbox.db.read(_next_due)
            except Exception:
                log.exception("event engine step failed")
                next_due = None
            wait = MAX_IDLE if next_due is None else min(max(next_due - time.time(), 0), MAX_IDLE)
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)


def _next_due(conn: sqlite3.Connection) -> float | None:
    row = conn.execute("SELECT MIN(due) FROM event_schedule").fetchone()
    return float(row[0]) if row and row[0] is not None else None
