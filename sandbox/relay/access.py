"""Where the installed relay lives on a Sandbox (a leaf module: safe to import from anywhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailsandbox.relay.service import Relay
    from mailsandbox.runtime import Sandbox

EXTENSION_KEY = "relay"


def relay_of(sandbox: Sandbox) -> Relay:
    """The relay installed on ``sandbox`` (for the API and the UI)."""
    relay: Relay = sandbox.extensions[EXTENSION_KEY]
    return relay
