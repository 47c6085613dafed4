"""Release and relay: send a stored message on to a real SMTP server (Mailpit-compatible).

A **release** is asked for (``POST /api/v1/message/{ID}/release``, the UI's Release button) and
goes to the addresses given; **auto-relay** (``--relay-match QUERY``) sends every new message
matching a search to its envelope recipients. Both go to ``--relay-host``, only to recipients
``--relay-allow`` accepts, and are recorded (when, to whom, the upstream's reply) whatever the
outcome. The stored message is never changed; the copy sent drops ``Bcc`` and ``Return-Path``.

:func:`install` attaches the relay to a :class:`~mailsandbox.runtime.Sandbox` (the composition
root calls it); :func:`relay_of` finds it again.
"""

from __future__ import annotations

from mailsandbox.relay.access import EXTENSION_KEY, relay_of
from mailsandbox.relay.config import RelayConfig
from mailsandbox.relay.service import Relay, ReleaseError
from mailsandbox.relay.store import MIGRATIONS
from mailsandbox.runtime import Sandbox


def install(sandbox: Sandbox) -> Relay:
    """Build the relay from the settings (a ``ValueError`` for a bad ``--relay-match``)."""
    relay = Relay(sandbox, RelayConfig.from_settings(sandbox.settings))
    sandbox.migrations.extend(MIGRATIONS)
    if relay.config is not None and relay.config.match:
        sandbox.bus.on(relay.on_bus)
        sandbox.on_startup.append(relay.start)
    sandbox.extensions[EXTENSION_KEY] = relay
    return relay


__all__ = ["EXTENSION_KEY", "Relay", "RelayConfig", "ReleaseError", "install", "relay_of"]
