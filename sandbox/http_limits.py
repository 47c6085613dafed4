"""Read timeouts and a connection cap for the HTTP server: uvicorn's h11 protocol, extended.

uvicorn waits for a request's headers and body as long as the client likes, and accepts every
connection: a thousand half-sent requests (slowloris) hold a thousand file descriptors until
the process can open no more (SQLite and SMTP included). :func:`protocol_class` builds the h11
protocol with three limits from :class:`~mailsandbox.config.Settings`:

- ``--http-header-timeout``: a connection must deliver the complete headers of a request within
  this many seconds of opening (or of the first byte of a later keep-alive request), however
  slowly it trickles them; else it is closed.
- ``--http-body-timeout``: a request body may stall at most this long between two reads; a slow
  upload that keeps moving is never cut. Time the app itself stops reading (flow control)
  does not count.
- ``--http-max-connections``: connections above the cap are closed as soon as they open.

Written against uvicorn 0.55's ``H11Protocol`` (``tests/sandbox/test_http_limits.py`` fails
loudly if the members used here change).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from mailsandbox.config import Settings

log = logging.getLogger(__name__)
WARN_EVERY = 10.0  # seconds between two "too many connections" warnings (a flood logs little)


class LimitedH11Protocol(H11Protocol):
    """H11Protocol plus header/body read deadlines and a cap on open connections."""

    header_timeout = 10.0
    body_timeout = 30.0
    max_connections = 500
    _last_warning = 0.0  # class-wide, shared by every connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._awaiting_first = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            # Leave the set now, not at connection_lost (a later loop turn): a flood of
            # refused connections must never count as open ones, not even for a moment.
            self.connections.discard(self)
            now = time.monotonic()
            if now - LimitedH11Protocol._last_warning > WARN_EVERY:
                LimitedH11Protocol._last_warning = now
                log.warning(
                    "HTTP: %d connections open (--http-max-connections %d): refusing new ones",
                    len(self.connections),
                    self.max_connections,
                )
            transport.abort()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._cancel_timers()  # the WebSocket protocol has its own pings and timeouts
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    # --- the deadlines -------------------------------------------------------------------
    def _arm(self) -> None:
        """Set the timers for what the connection is waiting for now."""
        if self.transport is None or self.transport.is_closing():
            self._cancel_timers()
            return
        state = self.conn.their_state
        if state is h11.IDLE:  # between requests: headers not (completely) received yet
            self._cancel(body=True)
            partial = bool(self.conn.trailing_data[0])
            if partial or self._awaiting_first:
                if self._header_timer is None:
                    self._header_timer = self.loop.call_later(
                        self.header_timeout, self._expired, "headers"
                    )
            else:  # an idle keep-alive connection: uvicorn's keep-alive timeout applies
                self._cancel(header=True)
            return
        self._awaiting_first = False
        self._cancel(header=True)
        self._cancel(body=True)
        if state is h11.SEND_BODY:  # the body is still coming: restart the stall timer
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_stalled)

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


def protocol_class(settings: Settings) -> type[LimitedH11Protocol]:
    """The protocol class uvicorn instantiates per connection, with these settings' limits."""
    return type(
        "SandboxH11Protocol",
        (LimitedH11Protocol,),
        {
            "header_timeout": settings.http_header_timeout,
            "body_timeout": settings.http_body_timeout,
            "max_connections": settings.http_max_connections,
        },
    )
