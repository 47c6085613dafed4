"""The store-wide numbers every inbox page shows (totals, unread, inbox names, tag counts),
cached.

Counting 100,000 rows on every page view and every live refresh is most of a page's cost, yet
the numbers only change when a message event is published. ``Overview`` is remembered
together with the bus "generation" it was read at; any message event on the bus bumps the
generation and so invalidates it. A read that races a write is stored under the older
generation, so it is never served after the write's event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailsandbox import bus
from mailsandbox.logins import Visible
from mailsandbox.storage import messages
from mailsandbox.storage.sql import Connection

# Bus events that change what the inbox shows ("stats": only the counts changed).
MESSAGE_TYPES = frozenset({bus.NEW, bus.UPDATE, bus.DELETE, bus.TRUNCATE, bus.PRUNE, "stats"})
OVERVIEW_KEY = "mailsandbox.web.overview"


@dataclass(frozen=True)
class Overview:
    total: int
    unread: int
    inboxes: list[tuple[str, int]] = field(default_factory=list)
    tags: list[tuple[str, int]] = field(default_factory=list)  # every tag and its count


def read_overview(conn: Connection, visible: Visible = None) -> Overview:
    """The numbers of every inbox, or of the ``visible`` ones (a scoped login's)."""
    total, unread = messages.counts(conn, visible)
    where, args = messages.visible_sql(visible)
    rows = conn.execute(
        f"SELECT inbox, COUNT(*) FROM messages WHERE {where} GROUP BY inbox ORDER BY inbox", args
    )
    inboxes = [(row[0], int(row[1])) for row in rows]
    return Overview(total, unread, inboxes, list(messages.tag_counts(conn, visible).items()))


class OverviewCache:
    """Holds the last Overview and the bus generation it belongs to."""

    def __init__(self, event_bus: bus.EventBus, *, enabled: bool = True) -> None:
        self.generation = 0
        # Off in team mode: another replica's change reaches this bus a moment after its
        # commit, so a cached overview could miss mail the list already shows.
        self.enabled = enabled
        self._value: tuple[int, Overview] | None = None
        event_bus.on(self._on_event)

    def _on_event(self, event: bus.BusEvent) -> None:
        if event.type in MESSAGE_TYPES:
            self.generation += 1

    def get(self) -> Overview | None:
        if self.enabled and self._value is not None and self._value[0] == self.generation:
            return self._value[1]
        return None

    def put(self, generation: int, value: Overview) -> None:
        self._value = (generation, value)
