"""Where the installed engine lives on a Sandbox (a leaf module: safe to import from anywhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailsandbox.events.engine import EventEngine
    from mailsandbox.runtime import Sandbox

EXTENSION_KEY = "events.engine"


def engine_of(sandbox: Sandbox) -> EventEngine:
    """The engine installed on ``sandbox`` (for the API, the UI and the emulators)."""
    engine: EventEngine = sandbox.extensions[EXTENSION_KEY]
    return engine
