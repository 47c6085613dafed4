"""The event engine: each recipient's lifecycle after accept, and every event's side effects.

At ingest (a write hook, inside the message's own transaction) it checks the suppression lists
(a suppressed recipient is ``rejected``, i.e. SendGrid ``dropped`` / Mailgun ``failed
suppress-*``), picks the outcome (user rule, else magic address, else ``delivered``) and writes
the timed steps to ``event_schedule``; a background loop applies steps when due, all the due
steps of a tick in one transaction (see :mod:`mailsandbox.events.schedule`). Recording an event
(:meth:`EventEngine.record`) stores it, feeds the suppression lists (bounce, complaint,
unsubscribe) and writes the provider's webhook rows to the outbox, all in one transaction.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from mailsandbox import bus, ids, ingest
from mailsandbox.events import outbox, plans, providers, rule_store, schedule
from mailsandbox.events.dispatcher import Dispatcher
from mailsandbox.events.generic import GenericProvider
from mailsandbox.events.magic import is_simulator, magic_rule
from mailsandbox.events.rules import DELIVERY, Rule, RuleBook
from mailsandbox.storage import events, messages, suppressions
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

if TYPE_CHECKING:
    from mailsandbox.runtime import Sandbox

log = logging.getLogger(__name__)
UPDATE_DETAILS = "UPDATE events SET details_json = ? WHERE id = ?"
# Summaries kept for the steps ahead of a message, so applying them needs no read back: only
# for lifecycles ending within the horizon, and so many at most (a few MB); others are read.
SCHEDULED_CACHE = 10_000
SCHEDULED_HORIZON = 60.0  # seconds
RULES = "event_rules"  # team topic: the live rules changed
# Due steps applied per transaction. A tick's drain holds the write lock while it runs, and
# message ingest waits for it meanwhile: 500 steps took ~45 ms at 1,400 messages/s, the tail
# of SMTP ingest's latency (bench/README.md, "Latency"); 32 take a few ms.
DRAIN_CHUNK = 32


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
        self.clock = schedule.DueClock()
        self._lock = threading.Lock()
        # message id -> (its first events, whether they wrote outbox rows), until ``new``
        self._pending_publish: dict[str, tuple[list[DeliveryEvent], bool]] = {}
        # summaries of messages with scheduled steps, and how many are left (touched only
        # inside write transactions, which the database's write lock serialises)
        self._summaries: dict[str, MessageSummary] = {}
        self._steps_left: dict[str, int] = {}
        # Team mode: each due step is taken by one replica (see schedule.DUE), which each
        # look at the table at least every MAX_IDLE, so steps a dead replica planned (or was
        # applying: its transaction rolled back) are applied by the others. Rule changes
        # made on one replica are reloaded by the others.
        self.shared = sandbox.team.shared
        sandbox.team.on_changed(RULES, self._reload_rules)

    # --- recording (inside a write transaction) -------------------------------------------
    def record(
        self, conn: Connection, event: DeliveryEvent, message: MessageSummary
    ) -> DeliveryEvent:
        """Store ``event`` with its suppression and webhook side effects (same transaction)."""
        self._store(conn, event, message)
        return event

    def _store(self, conn: Connection, event: DeliveryEvent, message: MessageSummary) -> int:
        """:meth:`record`; returns how many outbox rows it wrote."""
        return self._store_all(conn, [(event, message)])

    def _store_all(
        self, conn: Connection, recorded: Sequence[tuple[DeliveryEvent, MessageSummary]]
    ) -> int:
        """:meth:`record` of several events: the events rows first, in one statement (see
        :func:`~mailsandbox.storage.events.add_all`), then each one's suppression entry and
        webhooks, in order; returns how many outbox rows it wrote."""
        by_event = [providers.get(self.sandbox, message.source) for _, message in recorded]
        for (event, message), provider in zip(recorded, by_event, strict=True):
            event.provider = event.provider or message.source
            event.id = event.id or ids.new_id()
            event.created = event.created or round(time.time(), 6)
            event.details.update(provider.ids(event, message))
        events.add_all(conn, [event for event, _ in recorded])
        written = 0
        for (event, message), provider in zip(recorded, by_event, strict=True):
            # the SES simulator's addresses are never put on a suppression list (AWS docs)
            simulator = is_simulator(event.recipient)
            entry = None if simulator else provider.suppression_for(event, message)
            if entry is not None:
                entry.details = {"message_id": message.id, "event_id": event.id}
                suppressions.add(conn, entry)
            written += outbox.enqueue_event(conn, provider, event, message)
        return written

    def on_ingest(self, conn: Connection, new: messages.NewMessage, seq: int) -> None:
        """Write hook: webhooks for the accept, then a plan for every recipient."""
        message = ingest.summary_of(new, seq)
        if sandbox_mode(message):
            conn.execute("DELETE FROM events WHERE message_id = ?", (new.id,))
            return
        targets = self.generic.message_targets(conn)
        if targets:
            payload = self.generic.message_payload(message)
            for target in targets:
                outbox.add(conn, self.generic.name, target, payload, message_id=message.id)
        provider = providers.get(self.sandbox, message.source)
        recorded, written = self._queued(conn, provider, message, new)
        written += len(targets)
        gate = provider.gate(conn, message)
        scopes = provider.suppression_scopes(message)
        steps: list[schedule.StepRow] = []
        now = time.time()
        start = max(now, provider.scheduled_at(message) or now)  # a scheduled send
        testing = test_mode(message)
        forced = provider.message_rule(message)
        for recipient in new.recipients:
            kinds = suppressions.suppressed_kinds(conn, recipient, scopes)
            drop = gate.drop or (provider.drop_reason(kinds) if kinds else None)
            if drop is None:
                rule = forced or self._rule_for(provider, message, recipient, testing)
                steps += self._steps(message, recipient, rule, start, testing)
                continue
            reason, details = drop
            event = DeliveryEvent(
                message.id, "rejected", recipient, reason=reason, details=dict(details)
            )
            written += self._store(conn, event, message)
            recorded.append(event)
        if steps and gate.hold:
            schedule.insert_steps(conn, schedule.held(steps, now))
        elif steps:
            schedule.insert_steps(conn, steps)
            # (in team mode another replica may take the steps, or change the message)
            if not self.shared and max(row[3] for row in steps) - now <= SCHEDULED_HORIZON:
                self._remember(message, len(steps))
            self.clock.note(min(row[3] for row in steps))
        with self._lock:
            self._pending_publish[new.id] = (recorded, written > 0)

    def _queued(
        self,
        conn: Connection,
        provider: providers.WebhookProvider,
        message: MessageSummary,
        new: messages.NewMessage,
    ) -> tuple[list[DeliveryEvent], int]:
        """The core's ``queued`` rows of ``message`` (written just before, see
        ``mailsandbox.runtime.record_queued``), given provider ids and sent to webhooks (returns
        them and how many outbox rows were written)."""
        queued = [event for event in new.events if event.type == "queued"]
        updates: list[tuple[str, int]] = []
        written = 0
        for event in queued:
            extra = provider.ids(event, message)
            if extra:
                event.details.update(extra)
                updates.append((json.dumps(event.details), event.id))
            written += outbox.enqueue_event(conn, provider, event, message)
        if updates:
            conn.executemany(UPDATE_DETAILS, updates)
        return queued, written

    def _remember(self, message: MessageSummary, steps: int) -> None:
        """Keep the summary of a message with steps ahead, so applying them needs no read
        back (inside a write transaction; a restart or an overflow just falls back to
        reading)."""
        if len(self._summaries) >= SCHEDULED_CACHE:
            self._summaries.clear()
            self._steps_left.clear()
        self._summaries[message.id] = message
        self._steps_left[message.id] = steps  # set, not added: a rerun batch writes it anew

    def _forget(self, message_id: str) -> None:
        """One scheduled step of ``message_id`` was taken."""
        left = self._steps_left.pop(message_id, 0) - 1
        if left > 0:
            self._steps_left[message_id] = left
        else:
            self._summaries.pop(message_id, None)

    def _rule_for(
        self,
        provider: providers.WebhookProvider,
        message: MessageSummary,
        recipient: str,
        testing: bool,
    ) -> Rule:
        if testing:
            return Rule(id="builtin:testmode", outcome="delivered", origin="builtin")
        rule = self.rules.first(
            DELIVERY,
            recipient=recipient,
            sender=message.mail_from or message.from_.address,
            subject=message.subject,
            source=message.source,
        )
        return (
            rule
            or provider.recipient_rule(recipient)
            or magic_rule(recipient)
            or Rule(id="builtin:default", outcome="delivered")
        )

    @staticmethod
    def _steps(
        message: MessageSummary, recipient: str, rule: Rule, start: float, testing: bool
    ) -> list[schedule.StepRow]:
        """The ``event_schedule`` rows of one recipient's lifecycle, starting at ``start``
        (``testing``: Mailgun test mode, delivered with code 650)."""
        rows: list[schedule.StepRow] = []
        for step in plans.steps_for(rule):
            details = dict(step.details, rule=rule.id)
            code, reason = step.code, step.reason
            if testing and step.type == "delivered":
                code, reason, details["test_mode"] = 650, "OK", True
            due = start + step.offset
            rows.append((message.id, recipient, step.type, due, reason, code, json.dumps(details)))
        return rows

    def apply_due(self, conn: Connection, now: float) -> list[DeliveryEvent]:
        """Apply every scheduled step that is due (up to ``schedule.BATCH``; runs in one
        write transaction)."""
        return self._apply_due(conn, now, schedule.BATCH)[0]

    def _apply_due(
        self, conn: Connection, now: float, limit: int
    ) -> tuple[list[DeliveryEvent], int]:
        """:meth:`apply_due` of at most ``limit`` steps, and how many outbox rows it wrote."""
        rows, found = schedule.take_due(conn, now, limit, known=self._summaries)
        recorded: list[tuple[DeliveryEvent, MessageSummary]] = []
        for row in rows:
            self._forget(row["message_id"])
            message = found.get(row["message_id"])
            if message is None:
                continue  # the message was deleted meanwhile: its lifecycle ends
            event = DeliveryEvent(
                row["message_id"],
                row["type"],
                row["recipient"],
                reason=row["reason"],
                code=row["code"],
                details=schedule.details_of(row),
            )
            recorded.append((event, message))
        written = self._store_all(conn, recorded)
        return [event for event, _ in recorded], written

    def _drain(self, conn: Connection, now: float) -> tuple[list[DeliveryEvent], int, float | None]:
        """One transaction of a tick: up to ``DRAIN_CHUNK`` due steps applied, the outbox rows
        written, when the next step is due (``<= now``: more are due already)."""
        recorded, written = self._apply_due(conn, now, DRAIN_CHUNK)
        return recorded, written, schedule.next_due(conn)

    # --- async side ------------------------------------------------------------------------
    async def load_rules(self) -> None:
        """At start: the rules added live before the last stop, after the file's."""
        for rule in await self.sandbox.db.read(rule_store.load):
            self.rules.add(rule)

    async def _reload_rules(self) -> None:
        """Another replica changed the live rules: take the stored ones."""
        self.rules.replace_live(await self.sandbox.db.read(rule_store.load))

    async def add_rule(self, rule: Rule) -> Rule:
        await self.sandbox.db.write(lambda conn: rule_store.save(conn, rule))
        self.sandbox.team.changed(RULES)
        return self.rules.add(rule)

    async def remove_rule(self, rule_id: str) -> bool:
        stored = await self.sandbox.db.write(lambda conn: rule_store.delete(conn, rule_id))
        self.sandbox.team.changed(RULES)
        return self.rules.remove(rule_id) or stored

    async def set_rule_enabled(self, rule_id: str, enabled: bool) -> Rule | None:
        """Switch a rule on or off; live rules keep the change across restarts."""
        rule = self.rules.set_enabled(rule_id, enabled)
        if rule is not None:
            await self.sandbox.db.write(lambda conn: rule_store.update(conn, rule))
            self.sandbox.team.changed(RULES)
        return rule

    async def move_rule(self, rule_id: str, position: int) -> list[Rule] | None:
        """Move a rule to ``position`` (see :meth:`RuleBook.move`); the live order is stored."""
        order = self.rules.move(rule_id, position)
        if order is not None:
            ids = [r.id for r in order]
            await self.sandbox.db.write(lambda conn: rule_store.set_order(conn, ids))
            self.sandbox.team.changed(RULES)
        return order

    def announce(self, recorded: list[DeliveryEvent], wake: bool = True) -> None:
        """Publish committed events on the bus; wake the dispatcher if ``wake`` (whether they
        wrote webhook rows) and there are any."""
        self.sandbox.mailbox.announce_events(recorded)
        if recorded and wake:
            self.dispatcher.wake()

    def on_bus(self, event: bus.BusEvent) -> None:
        """After a message is committed: announce its first events; wake the dispatcher if
        they wrote webhook rows, and the step loop if it must drain sooner than planned."""
        if event.type != bus.NEW:
            return
        with self._lock:
            recorded, written = self._pending_publish.pop(event.data.id, ([], False))
        self.announce(recorded, written)
        self.clock.poke()

    def rescheduled(self, due: float | None) -> None:
        """Steps were moved (a held batch released, a message rescheduled): drain by ``due``."""
        if due is not None:
            self.clock.note(due)
            self.clock.poke()

    async def trigger(
        self, message_id: str, type_: str, recipient: str = "", reason: str = "", **details: Any
    ) -> DeliveryEvent | None:
        """Record an event on a stored message now (API, UI, tracking links)."""

        def write(conn: Connection) -> DeliveryEvent | None:
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

    async def reschedule(
        self, message_id: str, metadata: dict[str, Any], delta: float | None
    ) -> bool:
        """A scheduled message changed (Resend's reschedule and cancel): store its new
        ``metadata`` and move the steps of its lifecycle by ``delta`` seconds, or drop them
        (``delta`` None: it will never be sent). False when there is no such message."""

        def write(conn: Connection) -> tuple[bool, float | None]:
            if not messages.update_metadata(conn, message_id, metadata):
                return False, None
            self._summaries.pop(message_id, None)  # read again, with the new metadata
            self._steps_left.pop(message_id, None)
            if delta is None:
                schedule.discard(conn, [message_id])
                return True, None
            return True, schedule.shift(conn, message_id, delta)

        found, first = await self.sandbox.db.write(write)
        self.rescheduled(first)
        return found

    async def run(self) -> None:
        """Apply scheduled steps as they fall due (resumes whatever a restart left pending):
        each tick drains every due step, ``DRAIN_CHUNK`` per transaction, so message writes
        waiting for the write lock get it between chunks. The chunks are inline writes, as
        message ingest's are (see ``Database.schedule``): on SQLite they run on the event loop,
        in one transaction with the messages of the same loop turn."""
        while True:
            await self.clock.wait()
            next_due = None
            try:
                while True:
                    now = time.time()
                    recorded, written, next_due = await self.sandbox.db.write(
                        partial(self._drain, now=now), inline=True
                    )
                    self.announce(recorded, written > 0)
                    if next_due is None or next_due > now:
                        break
            except Exception:
                log.exception("event engine step failed")
            self.clock.drained(next_due)
