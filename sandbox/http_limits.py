"""Read timeouts, a request-head size limit and a connection cap for the HTTP server: uvicorn's
httptools protocol, extended.

uvicorn waits for a request's headers and body as long as the client likes, and accepts every
connection: a thousand half-sent requests (slowloris) hold a thousand file descriptors until
the process can open no more (SQLite and SMTP included). :func:`protocol_class` builds the
protocol with three limits from :class:`~mailsandbox.config.Settings`:

- ``--http-header-timeout``: a connection must deliver the complete headers of a request within
  this many seconds of opening (or of the first byte of a later keep-alive request), however
  slowly it trickles them; else it is closed.
- ``--http-body-timeout``: a request body may stall at most this long between two reads; a slow
  upload that keeps moving is never cut. Time the app itself stops reading (flow control)
  does not count.
- ``--http-max-connections``: connections above the cap are closed as soon as they open.

The parser is httptools (llhttp, in C) rather than h11 (pure Python): the HTTP layer costs
~40 µs of server CPU per request instead of ~134 (``bench/http_protocol.py``; bench/README.md,
"after httptools"). llhttp buffers an unfinished header without bound: :data:`MAX_HEAD`
restores h11's limit (16 KiB of request head still incomplete: 400).

Written against uvicorn 0.55's ``HttpToolsProtocol`` (``tests/sandbox/test_http_limits.py``
fails loudly if the members used here change).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mailsandbox.config import Settings

log = logging.getLogger(__name__)
WARN_EVERY = 10.0  # seconds between two "too many connections" warnings (a flood logs little)
# What h11 (uvicorn's other parser) allows of a request head still incomplete: its
# DEFAULT_MAX_INCOMPLETE_EVENT_SIZE. A complete head may be larger, as with h11.
MAX_HEAD = 16 * 1024
INVALID = "Invalid HTTP request received."  # uvicorn's 400 body for a malformed request


class Phase(enum.Enum):
    """Where the connection's current request is, as the parser's callbacks tell."""

    WAITING = "no byte of the next request yet (or the last one is complete)"
    HEAD = "the request line and headers are coming"
    BODY = "the headers are complete, the body is coming"


class LimitedProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus header/body read deadlines, a head size limit and a cap on open
    connections."""

    header_timeout = 10.0
    body_timeout = 30.0
    max_connections = 500
    _last_warning = 0.0  # class-wide, shared by every connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._phase = Phase.WAITING
        self._awaiting_first = True
        self._upgraded = False
        self._begins = 0  # requests that began in the data being parsed
        self._head_size = 0  # bytes of the incomplete head received so far

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            # Leave the set now, not at connection_lost (a later loop turn): a flood of
            # refused connections must never count as open ones, not even for a moment.
            self.connections.discard(self)
            now = time.monotonic()
            if now - LimitedProtocol._last_warning > WARN_EVERY:
                LimitedProtocol._last_warning = now
                log.warning(
                    "HTTP: %d connections open (--http-max-connections %d): refusing new ones",
                    len(self.connections),
                    self.max_connections,
                )
            transport.abort()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        before, self._begins = self._phase, 0
        super().data_received(data)
        if self._phase is Phase.HEAD and not self._upgraded and not self.transport.is_closing():
            # All of data is head unless it also ended an earlier request (pipelined: then
            # its head part goes uncounted, at most one read; what follows counts).
            if self._begins == 0 or (self._begins == 1 and before is Phase.WAITING):
                self._head_size += len(data)
            if self._head_size > MAX_HEAD:
                log.warning("HTTP: request head over %d bytes (%s)", MAX_HEAD, self.client)
                self.send_400_response(INVALID)
        self._arm()

    # --- the parser's callbacks: track the phase --------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = Phase.HEAD
        self._begins += 1
        self._head_size = 0

    def on_headers_complete(self) -> None:
        self._phase = Phase.BODY
        self._awaiting_first = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._phase = Phase.WAITING

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def handle_websocket_upgrade(self) -> None:
        self._upgraded = True
        self._cancel_timers()  # the WebSocket protocol has its own pings and timeouts
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    # --- the deadlines -------------------------------------------------------------------
    def _arm(self) -> None:
        """Set the timers for what the connection is waiting for now."""
        if self._upgraded or self.transport is None or self.transport.is_closing():
            self._cancel_timers()
            return
        if self._phase is Phase.BODY:  # the body is still coming: restart the stall timer
            self._cancel(header=True, body=True)
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_stalled)
            return
        self._cancel(body=True)
        if self._phase is Phase.HEAD or self._awaiting_first:  # headers not complete yet
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(
                    self.header_timeout, self._expired, "headers"
                )
        else:  # between requests: uvicorn's keep-alive timeout applies
            self._cancel(header=True)

    def _body_stalled(self) -> None:
        self._body_timer = None
        if self.flow is not None and self.flow.read_paused:  # we stopped reading, not them
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_stalled)
            return
        self._expired("body")

    def _expired(self, what: str) -> None:
        self._header_timer = None
        if self.transport is not None and not self.transport.is_closing():
            log.info("HTTP: closing a connection whose request %s stalled (%s)", what, self.client)
            self.transport.close()

    def _cancel(self, *, header: bool = False, body: bool = False) -> None:
        if header and self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        if body and self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel(header=True, body=True)


def protocol_class(settings: Settings) -> type[LimitedProtocol]:
    """The protocol class uvicorn instantiates per connection, with these settings' limits."""
    return type(
        "SandboxHttpProtocol",
        (LimitedProtocol,),
        {
            "header_timeout": settings.http_header_timeout,
            "body_timeout": settings.http_body_timeout,
            "max_connections": settings.http_max_connections,
        },
    )
