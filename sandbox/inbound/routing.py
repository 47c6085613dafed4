"""Inbound routing at ingest: which mail is evaluated, and what a match writes.

:meth:`InboundRouting.prepare` is an ingest *prepare hook*: it runs inside the message's own
transaction, before its rows are written, so the outbox rows of every matching rule commit with
the message (a crash loses neither) and the match is stored in the message's metadata
(``metadata["inbound"]``: a list of match records; its presence labels the message inbound).

Evaluated: mail that came in over SMTP and mail composed as inbound (UI, ``POST
/api/v1/inbound``); never the ESP send APIs (outbound), and never a message that carries
:data:`HOP_HEADER` (one a route re-ingested), so a route cannot loop. Once the message is
committed (its ``new`` bus event) the webhook dispatcher is woken for the rows it wrote.

The emulators register a function that makes their router: it is made (its modules imported)
at the first inbound mail, on whichever thread the hook runs (:class:`mailsandbox.lazy.Lazy`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from mailsandbox import bus
from mailsandbox.events import outbox
from mailsandbox.events.access import engine_of
from mailsandbox.events.providers import Target
from mailsandbox.inbound.model import HOP_HEADER, META_KEY, InboundMail, InboundRouter, RuleMatch
from mailsandbox.lazy import Lazy
from mailsandbox.storage.messages import NewMessage
from mailsandbox.storage.sql import Connection

if TYPE_CHECKING:
    from mailsandbox.runtime import Sandbox

EXTENSION_KEY = "inbound.routing"
SOURCES = frozenset({"smtp", "inbound"})
EVENT_ID = "inbound"  # what an inbound delivery's outbox row carries instead of an event id
_HOP = HOP_HEADER.encode() + b":"


def has_hop(raw: bytes) -> bool:
    """Whether the header block carries :data:`HOP_HEADER` (written by us, so exact case)."""
    end = raw.find(b"\r\n\r\n")
    head = raw if end < 0 else raw[:end]
    return head.startswith(_HOP) or b"\n" + _HOP in head


class LazyRouter:
    """A router made at the first mail it is asked about (``make`` imports its modules)."""

    def __init__(self, name: str, make: Callable[[], InboundRouter]) -> None:
        self.name = name
        self.router = Lazy(make)

    def route(self, conn: Connection, mail: InboundMail) -> list[RuleMatch]:
        return self.router.get().route(conn, mail)


class InboundRouting:
    """The routers of the installed emulators, and the ingest hook that asks them."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.routers: list[LazyRouter] = []
        self._lock = threading.Lock()  # the hook may run on the writer thread
        self._written: set[str] = set()  # messages whose outbox rows await their commit

    def register(self, name: str, make: Callable[[], InboundRouter]) -> None:
        """Register the router ``make()`` returns (``name``'s), made at the first inbound mail."""
        self.routers.append(LazyRouter(name, make))

    def prepare(self, conn: Connection, new: NewMessage) -> None:
        """Prepare hook: evaluate every router's rules; write the outbox rows and the record."""
        if new.source not in SOURCES or not self.routers or has_hop(new.raw):
            return
        mail = InboundMail(new.id, new.raw, new.parsed, new.mail_from, list(new.recipients))
        records = []
        wrote = False
        for router in self.routers:
            for match in router.route(conn, mail):
                ids = [
                    outbox.add(
                        conn,
                        router.name,
                        Target(d.url, match.rule_id, d.signed),
                        d.payload,
                        message_id=new.id,
                        event_id=EVENT_ID,
                    )
                    for d in match.deliveries
                ]
                wrote = wrote or bool(ids)
                records.append(match.record(router.name, ids))
        if records or META_KEY in new.metadata:
            new.metadata[META_KEY] = records
        if wrote:
            with self._lock:
                self._written.add(new.id)

    def on_bus(self, event: bus.BusEvent) -> None:
        """After a message is committed: wake the dispatcher if it wrote deliveries."""
        if event.type != bus.NEW:
            return
        with self._lock:
            if event.data.id not in self._written:
                return
            self._written.discard(event.data.id)
        engine_of(self.sandbox).dispatcher.wake()


def routing_of(sandbox: Sandbox) -> InboundRouting:
    """The routing installed on ``sandbox`` (emulators register their routers with it)."""
    routing: InboundRouting = sandbox.extensions[EXTENSION_KEY]
    return routing
