"""Team mode: replicas on one database hear each other's changes and share the work.

:class:`Team` sits on a :class:`~mailsandbox.storage.coordination.Coordination` (see there;
on SQLite nothing is shared and every call is trivially true: ``Solo``). The runtime builds
it from the database and starts it once the database is open. What each replica does:

* **Everything a single sandbox does**, on the shared database: SMTP and HTTP ingest (each
  door answers 250/2xx after its own commit), listing, search, the UI, the emulators.
* **The change feed**: every event the mailbox publishes (``new``, ``update``, ``delete``,
  ``prune``..., delivery ``event``s) is relayed (:meth:`relay`, a mailbox relay) to the
  other replicas, which publish it on their own bus marked ``remote``, so their SSE streams,
  WebSockets, UI live feeds and ``/api/v1/wait`` see mail accepted anywhere. Payloads are ids
  (NOTIFY's limit is 8000 bytes): the receiver reads the summary from the shared database,
  where it is already committed (and searchable: the origin publishes only then). Listeners
  that *act* on a change (auto-relay) skip remote events: the replica where the message
  arrived does it, once. Latency is one NOTIFY plus one read: a few milliseconds.
* **Shared state kept in memory** (event-engine rules, inbox rules, SES account settings,
  Postmark streams, Resend webhook secrets and API keys): the replica that changes it says
  so with :meth:`changed` after the commit, and the others reload it from the database
  (:meth:`on_changed`). Caches of counts (the API's totals, the UI's overview) are off in
  team mode: another replica's change reaches this bus a moment after its commit.
* **Work done once**: each webhook outbox row is POSTed by the replica that claimed it
  (:meth:`claim`, session advisory locks, released after the outcome's commit; see
  :mod:`mailsandbox.events.dispatcher`), each scheduled event step is applied by the replica
  whose transaction took its row (``SELECT … FOR UPDATE SKIP LOCKED``, see
  :mod:`mailsandbox.events.schedule`); retention and outbox trimming run on the lead only
  (:meth:`lead`). A replica killed with kill -9 loses its database session: its claims and
  its lead end with it, its open transaction rolls back, and the others (which look at the
  outbox and the schedule at least once a second) take the work over. Checkpoints are the
  PostgreSQL server's own business.

Limits: after a lost listener connection the replica resynchronises (reloads shared state,
tells its live pages to reload) rather than replaying what it missed; per-process figures
(``/metrics``, Mailpit's runtime stats, rate limits of the emulators) are per replica;
file-defined event rules switched on/off or moved through the API change on one replica
only (they are not stored); webhook signing keys that live in files are read from the data
directory (the working directory in team mode): replicas must share it, or be given the
keys in their settings; Resend's "request with this idempotency key still in progress" (409)
is known per replica (the stored answers are shared: a repeat after the first one finished
is replayed by any replica).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mailsandbox import bus
from mailsandbox.bus import DELIVERY_EVENT, NEW, PRUNE, BusEvent
from mailsandbox.storage import events, messages
from mailsandbox.storage.coordination import RESYNC, Coordination, Payload
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
                await self._reload([str(payload.get("d"))])
            elif kind == RESYNC:  # changes may have been missed: reload everything
                await self._reload(list(self._reloads))
                self.bus.publish(BusEvent(PRUNE, None, remote=True))
            elif kind == NEW:
                if payload["id"] in summaries:  # (else deleted meanwhile)
                    summary = summaries[payload["id"]]
                    self.bus.publish(BusEvent(NEW, summary, summary.inbox, remote=True))
            elif kind == DELIVERY_EVENT:
                if payload["id"] in found:
                    self.bus.publish(BusEvent(DELIVERY_EVENT, found[payload["id"]], remote=True))
            elif kind:
                self.bus.publish(BusEvent(kind, payload.get("d"), payload.get("i"), remote=True))

    async def _reload(self, topics: list[str]) -> None:
        for topic in topics:
            for reload in self._reloads.get(topic, []):
                try:
                    await reload()
                except Exception:  # (the next change, or a restart, reloads it)
                    log.exception("could not reload %s changed by another replica", topic)

    # --- sharing the work ----------------------------------------------------------------
    async def lead(self) -> bool:
        """Whether this replica runs the housekeeping now (always, alone on SQLite)."""
        return await self.coordination.lead()

    async def claim(self, keys: Sequence[int]) -> list[int]:
        """Of ``keys``, those this replica may work on (no other one has claimed them)."""
        return await self.coordination.claim(keys)

    async def release(self, keys: Sequence[int]) -> None:
        await self.coordination.release(keys)
