"""Where the POP3 server lives on a Sandbox (a leaf module: safe to import from anywhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailsandbox.pop3.server import Pop3Server
    from mailsandbox.runtime import Sandbox

EXTENSION_KEY = "pop3"


def pop3_of(sandbox: Sandbox) -> Pop3Server | None:
    """The POP3 server installed on ``sandbox``, or None when POP3 is off."""
    server: Pop3Server | None = sandbox.extensions.get(EXTENSION_KEY)
    return server
