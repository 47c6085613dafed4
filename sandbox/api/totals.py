"""Mailbox totals (messages, unread, tags) cached between changes.

Every list response carries them; counting 100,000 rows per request is wasted work when
nothing changed. The cache is dropped on every bus event that can change them (all changes to
messages are announced on the bus), and a value computed while a change landed is not kept.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from mailsandbox.bus import DELIVERY_EVENT, BusEvent
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store

EXTENSION_KEY = "api.totals"


@dataclass(frozen=True)
class Totals:
    total: int
    unread: int
    tags: list[str]


def _compute(conn: sqlite3.Connection, visible: Visible = None) -> Totals:
    total, unread = store.counts(conn, visible)
    return Totals(total, unread, store.all_tags(conn, visible))


class TotalsCache:
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._generation = 0
        self._value: Totals | None = None
        sandbox.bus.on(self._invalidate)

    def _invalidate(self, event: BusEvent) -> None:
        if event.type != DELIVERY_EVENT:
            self._generation += 1
            self._value = None

    async def get(self) -> Totals:
        if self._value is not None:
            return self._value
        generation = self._generation
        value = await self._sandbox.db.read(_compute)
        if generation == self._generation:
            self._value = value
        return value


async def totals(sandbox: Sandbox, visible: Visible = None) -> Totals:
    """The current totals of ``sandbox`` (cached on it), or of the ``visible`` inboxes
    (a scoped login's: not cached)."""
    if visible is not None:
        return await sandbox.db.read(lambda conn: _compute(conn, visible))
    cache = sandbox.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = sandbox.extensions[EXTENSION_KEY] = TotalsCache(sandbox)
    assert isinstance(cache, TotalsCache)
    return await cache.get()
