"""SMTP listeners on the app's own event loop (``loop.create_server``; no aiosmtpd Controller).

Also the import point for the SMTP pieces others use: the handler, its options and stats,
policy hooks and ``DISCONNECT``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from mailsandbox.smtp.handler import (
    DISCONNECT,
    PolicyHook,
    SandboxHandler,
    SmtpOptions,
    SmtpStats,
)
from mailsandbox.smtp.protocol import SandboxSMTP

__all__ = [
    "DISCONNECT",
    "PolicyHook",
    "SandboxHandler",
    "SandboxSMTP",
    "SmtpListener",
    "SmtpOptions",
    "SmtpStats",
    "listen",
]


@dataclass
class SmtpListener:
    server: asyncio.base_events.Server
    tls: bool

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.sockets[0].getsockname()[:2]
        return str(host), int(port)


async def listen(
    handler: SandboxHandler,
    host: str,
    port: int,
    *,
    implicit_tls: bool = False,
    start_serving: bool = True,
) -> SmtpListener:
    """Start an SMTP listener on the running loop; with ``implicit_tls`` it is SMTPS (the
    handler's options must then have a TLS context).

    With ``start_serving=False`` the port is bound but connections wait until
    ``listener.server.start_serving()`` (the sandbox binds before it opens the database).
    """
    loop = asyncio.get_running_loop()
    options = handler.options
    if implicit_tls and options.tls_context is None:
        raise ValueError("SMTPS needs a TLS certificate")
    server = await loop.create_server(
        lambda: SandboxSMTP(handler, options, implicit_tls=implicit_tls, loop=loop),
        host=host,
        port=port,
        ssl=options.tls_context if implicit_tls else None,
        reuse_address=True,
        start_serving=start_serving,
    )
    return SmtpListener(server, implicit_tls)
