"""Team mode: replicas on one database hear each other's changes and share the work.

:class:`Team` sits on a :class:`~mailsandbox.storage.coordination.Coordination` (see there;
on SQLite nothing is shared and every call is trivially true). It gives the sandbox:

* the change feed between replicas: every event the mailbox publishes (``new``, ``update``,
  ``delete``, ``prune``..., delivery ``event``s) goes to the other replicas too, which publish
  it on their own bus, so their SSE streams, WebSockets and ``/api/v1/wait`` see mail
  accepted anywhere. Payloads are small (a message or event id; the receiving replica reads
  the rest from the shared database, where it is already committed);
* shared state kept in memory (the event engine's rules, SES account settings): a replica
  that changes it says so with :meth:`changed`, and the others reload it (:meth:`on_changed`);
* :meth:`lead`: whether this replica runs the housekeeping (retention, outbox trimming);
* :meth:`claim` / :meth:`release`: which replica sends a webhook outbox row.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mailsandbox import bus
from mailsandbox.bus import DELIVERY_EVENT, NEW, BusEvent
from mailsandbox.storage import events, messages
from mailsandbox.storage.coordination import Coordination, Payload
from mailsandbox.storage.db import Database
from mailsandbox.storage.sql import Connection

log = logging.getLogger(__name__)

STATE = "state"  # a payload saying that shared state (``d``: its topic) changed
Reload = Callable[[], Awaitable[None]]


def _payload(event: BusEvent) -> Payload:
    """What the other replicas need to publish ``event`` again: ids, not documents."""
    payload: Payload = {"t": event.type}
    if event.type in (NEW, DELIVERY_EVENT):
        payload["id"] = event.data.id
    elif event.data is not None:
        payload["d"] = event.data
    if event.inbox is not None:  # (feeds of scoped logins filter by it)
        payload["i"] = event.inbox
    return payload


def _fetch(conn: Connection, batch: list[Payload]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The summaries and delivery events the batch names (by id; deleted ones are absent)."""
    new_ids = [p["id"] for p in batch if p.get("t") == NEW]
    event_ids = [p["id"] for p in batch if p.get("t") == DELIVERY_EVENT]
    summaries = {s.id: s for s in messages.get_summaries(conn, new_ids)} if new_ids else {}
    found = {e.id: e for e in events.by_ids(conn, event_ids)} if event_ids else {}
    return summaries, found


class Team:
    def __init__(self, db: Database, event_bus: bus.EventBus, coordination: Coordination):
        self.db = db
        self.bus = event_bus
        self.coordination = coordination
        self._reloads: dict[str, list[Reload]] = {}

    @property
    def shared(self) -> bool:
        """Whether other replicas use the same database."""
        return self.coordination.shared

    async def start(self) -> None:
        """After the database opened."""
        await self.coordination.start(self._receive)

    async def stop(self) -> None:
        await self.coordination.stop()

    # --- the change feed ---------------------------------------------------------------
    def relay(self, event: BusEvent) -> None:
        """A committed change this replica published: tell the others (a mailbox relay)."""
        if self.shared and event.type != bus.CLOSED:
            self.coordination.send(_payload(event))

    def changed(self, topic: str) -> None:
        """Shared state kept in memory changed here (committed): the others reload it."""
        if self.shared:
            self.coordination.send({"t": STATE, "d": topic})

    def on_changed(self, topic: str, reload: Reload) -> None:
        """Run ``reload`` when another replica changed ``topic``."""
        self._reloads.setdefault(topic, []).append(reload)

    async def _receive(self, batch: list[Payload]) -> None:
        """Changes from the other replicas, in the order they were made: published here."""
        summaries, found = await self.db.read(lambda conn: _fetch(conn, batch))
        for payload in batch:
            kind = payload.get("t", "")
            if kind == STATE:
                for reload in self._reloads.get(str(payload.get("d")), []):
                    await reload()
            elif kind == NEW:
                if payload["id"] in summaries:  # (else deleted meanwhile)
                    summary = summaries[payload["id"]]
                    self.bus.publish(BusEvent(NEW, summary, summary.inbox, remote=True))
            elif kind == DELIVERY_EVENT:
                if payload["id"] in found:
                    self.bus.publish(BusEvent(DELIVERY_EVENT, found[payload["id"]], remote=True))
            elif kind:
                self.bus.publish(BusEvent(kind, payload.get("d"), payload.get("i"), remote=True))

    # --- sharing the work ----------------------------------------------------------------
    async def lead(self) -> bool:
        """Whether this replica runs the housekeeping now (always, alone on SQLite)."""
        return await self.coordination.lead()

    async def claim(self, keys: Sequence[int]) -> list[int]:
        """Of ``keys``, those this replica may work on (no other one has claimed them)."""
        return await self.coordination.claim(keys)

    async def release(self, keys: Sequence[int]) -> None:
        await self.coordination.release(keys)
