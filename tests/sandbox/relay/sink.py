"""A plain aiosmtpd server that keeps what it receives: the upstream a relay test sends to.

Optionally with STARTTLS (required) or implicit TLS, AUTH (required), and recipients it
refuses with 550. Runs aiosmtpd's own ``Controller`` (a thread with its own loop), so it has
nothing of the sandbox in it.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from mailsandbox.smtp import tls


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    user: str  # the AUTH login ("" without)
    tls: bool  # whether the session was encrypted


@dataclass
class Sink:
    host: str
    port: int
    certificate: Path | None
    messages: list[Received] = field(default_factory=list)


class _Handler:
    def __init__(self, sink: Sink, refuse: set[str], login: tuple[str, str] | None) -> None:
        self.sink, self.refuse, self.login = sink, refuse, login

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.login is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        user = session.auth_data.login.decode() if session.auth_data else ""
        assert server.transport is not None
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.sink.messages.append(
            Received(
                envelope.mail_from or "",
                list(envelope.rcpt_tos),
                envelope.original_content or b"",
                user,
                encrypted,
            )
        )
        return "250 2.0.0 Ok: queued as SINK42"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.login is not None
            and (data.login.decode(), data.password.decode()) == self.login
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class _Controller(Controller):
    """aiosmtpd's controller on port 0: the port the system picked, read back before the
    controller's own first connection (which it makes to ``self.port``)."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp_sink(
    directory: Path,
    *,
    tls_mode: str = "none",
    login: tuple[str, str] | None = None,
    refuse: set[str] | frozenset[str] = frozenset(),
) -> Iterator[Sink]:
    """A running sink on a free loopback port; ``tls_mode`` none, starttls or tls. With TLS
    its certificate (self-signed, for localhost) is ``sink.certificate``."""
    context: ssl.SSLContext | None = None
    cert: Path | None = None
    if tls_mode != "none":
        cert, key = tls.ensure_self_signed(directory / "sink-tls")
        context = tls.server_context(cert, key)
    sink = Sink("127.0.0.1", 0, cert)
    handler = _Handler(sink, set(refuse), login)
    kwargs: dict[str, Any] = {
        "authenticator": handler.authenticate,
        "auth_require_tls": tls_mode == "starttls",  # (an implicit TLS session is TLS already)
        "decode_data": False,
    }
    if tls_mode == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    controller = _Controller(
        handler,
        hostname="127.0.0.1",
        port=0,
        ssl_context=context if tls_mode == "tls" else None,
        server_hostname="localhost",
        **kwargs,
    )
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        controller.stop()
