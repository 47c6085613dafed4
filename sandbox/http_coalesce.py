"""One send for a response's head and body: the transport as uvicorn's request cycle sees it.

uvicorn's httptools cycle writes the status line and headers at ``http.response.start`` and
the body at ``http.response.body``: two ``send()`` calls, two TCP segments, for every
response with a body, though an ordinary response sends both messages in the same loop step.
:class:`CoalescingTransport` holds a write until the next one in the same step (then both
leave as one) or until the step ends (a streamed response's head, ``100 Continue``): the
bytes and their order are unchanged, only how many segments carry them. The profile and the
figures are in bench/README.md ("after httptools").
"""

from __future__ import annotations

import asyncio


class CoalescingTransport:
    """Wraps a connection's transport for its request cycles: ``write``, ``close`` and
    ``is_closing``, the three members the cycle uses (a canary test checks)."""

    __slots__ = ("_flush_scheduled", "_held", "_loop", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._held = b""
        self._flush_scheduled = False

    def write(self, data: bytes) -> None:
        if self._held:  # the second write of the step: both go now, as one
            data, self._held = self._held + data, b""
            self.transport.write(data)
        elif data:
            self._held = data
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write what is held now."""
        self._flush_scheduled = False
        if self._held:
            data, self._held = self._held, b""
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()
