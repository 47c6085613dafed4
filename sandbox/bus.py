"""In-process event bus: what changed, told to whoever listens (SSE stream, UI, waiters, engine).

Events are published on the event loop only after the change they describe is committed, so
a listener that reacts by reading the database always finds what the event announced.
Subscribers get their own bounded queue; a subscriber too slow to keep up loses the oldest
events rather than slowing ingest (it can always re-read the database). At shutdown
:meth:`EventBus.close` hands every subscriber (and anyone subscribing later) a ``closed``
event, whatever its filter: long polls and streams end on it instead of holding the process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Event types (Mailpit's WebSocket vocabulary, plus "event" for delivery events).
NEW = "new"
UPDATE = "update"
DELETE = "delete"
TRUNCATE = "truncate"
PRUNE = "prune"
DELIVERY_EVENT = "event"
STATS = "stats"  # only the counts changed (e.g. "mark all read")
CLOSED = "closed"  # the process is shutting down: listeners end (never filtered out)


@dataclass(frozen=True)
class BusEvent:
    type: str
    data: Any = None
    # The inbox of the message it is about (so feeds of scoped logins can leave it out);
    # None for events about no single message (truncate, prune, stats).
    inbox: str | None = None
    # Told by another replica on the same database (team mode, see mailsandbox.team): listeners
    # that act on a change (auto-relay) leave it to the replica where it happened.
    remote: bool = False


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[BusEvent]
    predicate: Callable[[BusEvent], bool] | None = None
    dropped: int = field(default=0)


class EventBus:
    """Fan-out of ``BusEvent`` to subscribers; also takes plain callbacks (for in-process hooks)."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscriptions: set[Subscription] = set()
        self._callbacks: list[Callable[[BusEvent], None]] = []
        self._queue_size = queue_size
        self.closed = False

    def publish(self, event: BusEvent) -> None:
        for callback in list(self._callbacks):
            callback(event)
        for sub in list(self._subscriptions):
            if sub.predicate is not None and not sub.predicate(event):
                continue
            _put(sub, event)

    def close(self) -> None:
        """Shutting down: every subscriber, now or later, gets a ``closed`` event next."""
        self.closed = True
        for sub in list(self._subscriptions):
            _put(sub, BusEvent(CLOSED))

    def on(self, callback: Callable[[BusEvent], None]) -> Callable[[], None]:
        """Call ``callback`` synchronously for every event; returns an unsubscribe function."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    @contextlib.contextmanager
    def subscribe(
        self, predicate: Callable[[BusEvent], bool] | None = None
    ) -> Iterator[asyncio.Queue[BusEvent]]:
        sub = Subscription(asyncio.Queue(self._queue_size), predicate)
        if self.closed:
            _put(sub, BusEvent(CLOSED))
        self._subscriptions.add(sub)
        try:
            yield sub.queue
        finally:
            self._subscriptions.discard(sub)

    async def stream(
        self, predicate: Callable[[BusEvent], bool] | None = None
    ) -> AsyncIterator[BusEvent]:
        """Every event (matching ``predicate``) until the bus closes."""
        with self.subscribe(predicate) as queue:
            while (event := await queue.get()).type != CLOSED:
                yield event

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)


def _put(sub: Subscription, event: BusEvent) -> None:
    """Queue ``event`` for ``sub``, dropping its oldest event when the queue is full."""
    if sub.queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            sub.queue.get_nowait()
            sub.dropped += 1
    sub.queue.put_nowait(event)
