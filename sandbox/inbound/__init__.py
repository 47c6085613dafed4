"""Inbound mail: the ESPs' receiving side (SendGrid Inbound Parse, Mailgun Routes).

:func:`install` attaches the routing hook to a :class:`~mailsandbox.runtime.Sandbox` (after the
event engine, whose outbox and dispatcher deliver what it writes); each emulator then registers
its router with :func:`routing_of`. :mod:`.content` reads what the providers post of a stored
message, :mod:`.forms` encodes the POST bodies, :mod:`.compose` builds mail "sent in" from the
UI or the REST API.
"""

from __future__ import annotations

from mailsandbox.inbound.model import (
    HOP_HEADER,
    META_KEY,
    Delivery,
    InboundMail,
    InboundRouter,
    RuleMatch,
)
from mailsandbox.inbound.routing import EXTENSION_KEY, InboundRouting, routing_of
from mailsandbox.runtime import Sandbox


def install(sandbox: Sandbox) -> InboundRouting:
    routing = InboundRouting(sandbox)
    sandbox.mailbox.prepare_hooks.append(routing.prepare)
    sandbox.bus.on(routing.on_bus)
    sandbox.extensions[EXTENSION_KEY] = routing
    return routing


__all__ = [
    "HOP_HEADER",
    "META_KEY",
    "Delivery",
    "InboundMail",
    "InboundRouter",
    "InboundRouting",
    "RuleMatch",
    "install",
    "routing_of",
]
