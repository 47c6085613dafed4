"""The mailbox service: every change to stored messages, and every announcement on the bus.

Each door (SMTP, the REST send route, the SendGrid and Mailgun emulators, ``mailsandbox
ingest``) stores mail with :meth:`Mailbox.ingest`; the API, the web UI and the retention loop
change it with the other methods (read flags, deletes, tags, pruning); the event engine
announces delivery events with :meth:`Mailbox.announce_events`. Each method commits first,
then publishes what changed with :meth:`Mailbox.publish`, the only way onto the bus: the
local subscribers (SSE, WebSocket, ``/api/v1/wait``, the totals cache, the event engine) and,
in team mode, the other replicas (see :mod:`mailsandbox.team`).

Bus payloads are Mailpit's WebSocket shapes: ``new`` (the stored summary), ``update``
``{"ID", "Read"}`` or ``{"ID", "Tags"}``, ``delete`` ``{"ID"}``, ``truncate``/``prune`` ``None``;
``stats`` (``None``) says only the counts changed (e.g. "mark all read"); events about one
message carry its inbox. Given ``visible`` (a scoped login's inboxes), a change touches the
messages of those inboxes only.

Ingest: normalise and parse (:func:`mailsandbox.ingest.prepare`), write the message in one
transaction with whatever the write hooks add (delivery events, the webhook outbox), publish
``new`` once it is searchable, return the stored summary. A message that cannot be parsed is
stored raw with its error, never refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from mailsandbox import bus, reading
from mailsandbox.bus import DELETE, DELIVERY_EVENT, NEW, PRUNE, STATS, TRUNCATE, UPDATE, BusEvent
from mailsandbox.inbox_rules import InboxRules
from mailsandbox.indexer import SearchIndex
from mailsandbox.ingest import INLINE_BYTES, Inbound, PrepareHook, WriteHook, prepare, summary_of
from mailsandbox.logins import Visible
from mailsandbox.metrics import Histogram
from mailsandbox.storage import messages as store
from mailsandbox.storage.db import Database
from mailsandbox.storage.sql import Connection

PRUNE_THRESHOLD = 200  # Mailpit: more changes than this are announced as one ``prune``
Relay = Callable[[BusEvent], None]


class Mailbox:
    """Owns the messages: stores, changes and deletes them, and announces every change."""

    def __init__(
        self,
        db: Database,
        event_bus: bus.EventBus,
        index: SearchIndex,
        hostname: str,
        *,
        plus_tags: bool = True,
    ) -> None:
        self.db = db
        self.bus = event_bus
        self.index = index  # makes committed messages searchable (see mailsandbox.indexer)
        self.hostname = hostname
        self.plus_tags = plus_tags  # ``user+foo@`` tags the message ``foo`` (see prepare)
        # Run in the message's transaction before its rows are written (e.g. inbound routing
        # labels it), and after them (delivery events, the webhook outbox).
        self.prepare_hooks: list[PrepareHook] = []
        self.write_hooks: list[WriteHook] = []
        # Also told every event published here (team mode: the other replicas).
        self.relays: list[Relay] = []
        self.inbox_rules = InboxRules()  # replaced whole when the rules change
        self.accepted = 0  # messages stored by this process, by any door
        self.accepted_bytes = 0
        # For /metrics: messages and bytes by door (Inbound.source), and seconds to commit.
        self.received: dict[str, int] = {}
        self.received_bytes: dict[str, int] = {}
        self.latency = Histogram()
        self.deleted = 0  # messages deleted by this process (Mailpit's MessagesDeleted)

    # --- announcing ------------------------------------------------------------------------
    def publish(self, event: BusEvent) -> None:
        """Tell every subscriber (and every relay) about a committed change."""
        self.bus.publish(event)
        for relay in self.relays:
            relay(event)

    def announce_events(self, recorded: Sequence[object]) -> None:
        """Publish committed delivery events."""
        for event in recorded:
            self.publish(BusEvent(DELIVERY_EVENT, event))

    def _announce_each(self, kind: str, changes: Sequence[tuple[dict[str, object], str]]) -> None:
        """``kind`` per changed message (``(payload, inbox)``), or one ``prune`` ("reload")
        rather than a flood."""
        if len(changes) > PRUNE_THRESHOLD:
            self.publish(BusEvent(PRUNE, None))
            return
        for payload, inbox in changes:
            self.publish(BusEvent(kind, payload, inbox))

    # --- ingest ----------------------------------------------------------------------------
    def _write(self, new: store.NewMessage) -> Callable[[Connection], int]:
        def write(conn: Connection) -> int:
            new.events = []  # a batch that failed is rerun: start over
            for prepare_hook in self.prepare_hooks:
                prepare_hook(conn, new)
            # On SQLite no index row yet: the indexer writes it once this commits.
            seq = store.insert_message(conn, new, index=not self.index.deferred)
            self.index.stage(seq, new.id, new.parsed.search_text)
            for hook in self.write_hooks:
                hook(conn, new, seq)
            return seq

        return write

    async def ingest(self, inbound: Inbound, *, searchable: bool = True) -> store.MessageSummary:
        """Store a message; returns once it is committed (durable and listed).

        With ``searchable`` (the default) it also waits until the message is in the search
        index and ``new`` was published; SMTP passes False to answer 250 right at the commit.
        """
        started = time.perf_counter()
        small = len(inbound.raw) <= INLINE_BYTES
        rules = self.inbox_rules
        if small:
            new = prepare(inbound, self.hostname, rules, plus_tags=self.plus_tags)
        else:  # parsing and writing a big message would hold up every other connection
            new = await asyncio.to_thread(
                prepare, inbound, self.hostname, rules, plus_tags=self.plus_tags
            )
        # Small ones are written on the event loop with the others of this turn (see
        # Database.schedule); big ones by the writer thread.
        job = self.db.schedule(self._write(new), inline=small, seqs=1)
        assert job.waiter is not None
        committed: list[store.MessageSummary] = []
        # Indexing and the announcement hang off the commit itself, so they happen even if
        # whoever waits for it goes away (an SMTP client hanging up right after its data).
        job.waiter.add_done_callback(
            lambda done: committed.extend(self._committed(new, done, started))
        )
        seq = await asyncio.shield(job.waiter)
        if not small:
            await asyncio.to_thread(reading.release_memory)  # (see release_memory)
        if searchable:
            await self.index.wait()
        return committed[0] if committed else summary_of(new, seq)

    def _committed(
        self, new: store.NewMessage, done: asyncio.Future[int], started: float
    ) -> list[store.MessageSummary]:
        if done.cancelled() or done.exception() is not None:
            return []
        self.latency.observe(time.perf_counter() - started)
        self.accepted += 1
        self.accepted_bytes += len(new.raw)
        door = new.source
        self.received[door] = self.received.get(door, 0) + 1
        self.received_bytes[door] = self.received_bytes.get(door, 0) + len(new.raw)
        summary = summary_of(new, done.result())
        indexed = self.index.indexed_future()
        indexed.add_done_callback(lambda _: self.publish(BusEvent(NEW, summary, summary.inbox)))
        return [summary]

    async def wait_searchable(self) -> None:
        """Return once every message committed so far can be found by search."""
        await self.index.wait()

    # --- changes ---------------------------------------------------------------------------
    async def set_read(
        self, message_ids: Sequence[str], read: bool, visible: Visible = None
    ) -> list[str]:
        """Set the read flag of the listed messages (of the ``visible`` inboxes); ``update``
        per message that changed."""

        def write(conn: Connection) -> dict[str, str]:
            changed = store.set_read(conn, store.visible_ids(conn, message_ids, visible), read)
            return store.inboxes_of(conn, changed)

        changed = await self.db.write(write)
        self._announce_each(UPDATE, [({"ID": i, "Read": read}, b) for i, b in changed.items()])
        return list(changed)

    async def set_read_all(self, read: bool, visible: Visible = None) -> None:
        """Set the read flag of every message (of the ``visible`` inboxes); only the counts
        are announced, as Mailpit does."""
        if await self.db.write(lambda conn: store.set_read_all(conn, read, visible)):
            self.publish(BusEvent(STATS, None))

    async def delete(self, message_ids: Sequence[str], visible: Visible = None) -> list[str]:
        """Delete the listed messages (of the ``visible`` inboxes): ``delete`` each, or one
        ``prune`` for a big batch."""

        def write(conn: Connection) -> dict[str, str]:
            found = store.inboxes_of(conn, store.visible_ids(conn, message_ids, visible))
            store.delete_by_ids(conn, list(found))
            return found

        deleted = await self.db.write(write)
        self.deleted += len(deleted)
        self._announce_each(DELETE, [({"ID": i}, inbox) for i, inbox in deleted.items()])
        return list(deleted)

    async def delete_all(self, visible: Visible = None) -> None:
        """Delete every message (of the ``visible`` inboxes, for a scoped login)."""
        if visible is not None:
            ids = await self.db.read(lambda conn: store.ids_in(conn, visible))
            await self.delete(ids, visible)
            return
        await self.db.write(store.delete_all)
        self.deleted = 0  # Mailpit resets its deleted counter on delete-all
        self.publish(BusEvent(TRUNCATE, None))

    async def set_tags(
        self, message_ids: Sequence[str], tags: list[str], visible: Visible = None
    ) -> list[str]:
        """Replace the tags of the listed messages (of the ``visible`` inboxes); ``update
        {ID, Tags}`` per message."""

        def write(conn: Connection) -> dict[str, str]:
            found = store.inboxes_of(conn, store.visible_ids(conn, message_ids, visible))
            store.set_tags(conn, list(found), tags)
            return found

        found = await self.db.write(write)
        self._announce_each(UPDATE, [({"ID": i, "Tags": list(tags)}, b) for i, b in found.items()])
        return list(found)

    async def edit_tags(
        self,
        message_ids: Sequence[str],
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        visible: Visible = None,
    ) -> dict[str, list[str]]:
        """Add and/or remove tags on the listed messages (of the ``visible`` inboxes), keeping
        their other tags (the UI's per-message and bulk tagging); ``update {ID, Tags}`` per
        message that changed, or one ``prune`` for a big batch. Returns ``{id: new tags}`` of
        the changed messages."""
        dropped = {t.lower() for t in remove}

        def write(conn: Connection) -> tuple[dict[str, list[str]], dict[str, str]]:
            ids = store.visible_ids(conn, message_ids, visible)
            changed = store.edit_tags(conn, ids, list(add), dropped)
            return changed, store.inboxes_of(conn, list(changed))

        changed, inboxes = await self.db.write(write)
        self._announce_each(
            UPDATE, [({"ID": i, "Tags": tags}, inboxes[i]) for i, tags in changed.items()]
        )
        return changed

    async def rename_tag(self, old: str, new: str) -> None:
        await self.db.write(lambda conn: store.rename_tag(conn, old, new))
        self.publish(BusEvent(PRUNE, None))

    async def delete_tag(self, tag: str) -> None:
        await self.db.write(lambda conn: store.delete_tag(conn, tag))
        self.publish(BusEvent(PRUNE, None))

    async def prune(self, max_messages: int, min_created: float | None) -> list[str]:
        """Retention: drop the oldest beyond ``max_messages`` and those created before
        ``min_created``; one ``prune`` if any went."""
        deleted = await self.db.write(lambda conn: store.prune(conn, max_messages, min_created))
        if deleted:
            self.deleted += len(deleted)
            self.publish(BusEvent(PRUNE, None))
        return deleted
