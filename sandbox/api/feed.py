"""The mailbox change feed shared by ``/api/v1/stream`` (SSE) and ``/api/events`` (WebSocket).

``changes(sandbox)`` listens on the bus and yields ``Change(type, data)`` in Mailpit's WebSocket
shapes: ``stats`` ``{Total, Unread, Version}`` on connect, then every bus event as published
(``new`` data is the MessageSummary with empty lists as ``[]``), plus ``stats`` 250 ms after a
change (debounced: at most one per 250 ms). With ``idle`` set it yields ``None`` after that
many quiet seconds, so a transport can send a keep-alive. It ends when the bus closes
(shutdown), so a stream's response completes instead of being cut off.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

from mailsandbox import __version__
from mailsandbox.api import schemas
from mailsandbox.api.totals import totals
from mailsandbox.bus import CLOSED, DELIVERY_EVENT, NEW, STATS, BusEvent
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store
from mailsandbox.storage.messages import MessageSummary

STATS_DELAY = 0.25


@dataclasses.dataclass(frozen=True)
class Change:
    type: str
    data: Any


def payload(event: BusEvent) -> Any:
    """The JSON-ready data of a bus event."""
    if event.type == NEW and isinstance(event.data, MessageSummary):
        return schemas.message_summary(event.data, empty_list=[])
    if dataclasses.is_dataclass(event.data) and not isinstance(event.data, type):
        return dataclasses.asdict(event.data)
    return event.data


async def stats(sandbox: Sandbox, visible: Visible = None) -> Change:
    current = await totals(sandbox, visible)
    return Change(STATS, {"Total": current.total, "Unread": current.unread, "Version": __version__})


def _mailbox_only(event: BusEvent) -> bool:
    return event.type != DELIVERY_EVENT


async def seen(sandbox: Sandbox, event: BusEvent, visible: Visible) -> bool:
    """Whether a feed limited to the ``visible`` inboxes passes ``event`` on."""
    if visible is None:
        return True
    if event.type == DELIVERY_EVENT:  # about a message: is it one of ours?
        message_id = getattr(event.data, "message_id", "")
        found = await sandbox.db.read(lambda conn: store.get_summary(conn, message_id, visible))
        return found is not None
    return event.inbox is None or event.inbox in visible  # (None: truncate, prune, stats)


async def changes(
    sandbox: Sandbox,
    *,
    idle: float | None = None,
    delivery_events: bool = True,
    visible: Visible = None,
) -> AsyncIterator[Change | None]:
    """Every change to the mailbox (and delivery ``event``s unless ``delivery_events=False``);
    with ``visible``, changes to those inboxes only, and their counts."""
    with sandbox.bus.subscribe(None if delivery_events else _mailbox_only) as queue:
        yield await stats(sandbox, visible)
        stats_due: float | None = None
        while True:
            wait = idle if stats_due is None else max(stats_due - time.monotonic(), 0)
            try:
                event = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                if stats_due is not None:
                    stats_due = None
                    yield await stats(sandbox, visible)
                else:
                    yield None
                continue
            if event.type == CLOSED:
                return
            if not await seen(sandbox, event, visible):
                continue
            if event.type != STATS:  # a bare "counts changed" only triggers the stats below
                yield Change(event.type, payload(event))
            if event.type != DELIVERY_EVENT and stats_due is None:
                stats_due = time.monotonic() + STATS_DELAY
