"""Mailbox totals (messages, unread, tags) cached between changes.

Every list response carries them; counting 100,000 rows per request is wasted work when
nothing changed. The cache is dropped on every bus event that can change them (all changes to
messages are announced on the bus), and a value computed while a change landed is not kept.
A new message is announced only once searchable, a moment after its commit (and its SMTP
250): the count of messages committed is part of the cache key, so a list right after the
250 counts it.

In team mode nothing is cached: another replica's change reaches this one's bus a moment
after its commit (and its 250), so a cached value could miss mail already listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailsandbox.bus import DELIVERY_EVENT, BusEvent
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store
from mailsandbox.storage.sql import Connection

EXTENSION_KEY = "api.totals"


@dataclass(frozen=True)
class Totals:
    total: int
    unread: int
    tags: list[str]


def _compute(conn: Connection, visible: Visible = None) -> Totals:
    total, unread = store.counts(conn, visible)
    return Totals(total, unread, store.all_tags(conn, visible))


class TotalsCache:
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._generation = 0
        self._stamp: tuple[int, int] | None = None  # (generation, messages committed)
        self._value: Totals | None = None
        sandbox.bus.on(self._invalidate)

    def _invalidate(self, event: BusEvent) -> None:
        if event.type != DELIVERY_EVENT:
            self._generation += 1
            self._value = None

    def _now(self) -> tuple[int, int]:
        return (self._generation, self._sandbox.mailbox.accepted)

    async def get(self) -> Totals:
        if self._value is not None and self._stamp == self._now():
            return self._value
        stamp = self._now()
        value = await self._sandbox.db.read(_compute)
        if stamp == self._now():
            self._value, self._stamp = value, stamp
        return value


async def totals(sandbox: Sandbox, visible: Visible = None) -> Totals:
    """The current totals of ``sandbox`` (cached on it), or of the ``visible`` inboxes
    (a scoped login's: not cached)."""
    if visible is not None or sandbox.team.shared:
        return await sandbox.db.read(lambda conn: _compute(conn, visible))
    cache = sandbox.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = sandbox.extensions[EXTENSION_KEY] = TotalsCache(sandbox)
    assert isinstance(cache, TotalsCache)
    return await cache.get()
