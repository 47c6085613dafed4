"""The aiosmtpd handler: credentials, policy hooks at each stage, and ingest at DATA.

``handle_DATA`` builds an :class:`~mailsandbox.ingest.Inbound` and awaits ingest, so 250 is sent
only after the message is committed. Policy hooks (``SandboxHandler.policy_hooks``) let the
rules engine answer any code at AUTH/MAIL/RCPT/DATA or hang up.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from mailsandbox.ingest import Inbound
from mailsandbox.mailbox import Mailbox

if TYPE_CHECKING:
    from mailsandbox.smtp.protocol import SandboxSMTP

log = logging.getLogger(__name__)

# A policy hook returns None to carry on, a reply such as "550 5.1.1 No such user" to refuse,
# or DISCONNECT to drop the connection. Stages: "AUTH", "MAIL", "RCPT", "DATA".
DISCONNECT = "__disconnect__"
PolicyHook = Callable[[str, dict[str, Any]], Awaitable[str | None]]


@dataclass
class SmtpStats:
    accepted: int = 0
    accepted_bytes: int = 0
    rejected: int = 0
    ignored: int = 0
    connections: int = 0  # open now (counted at connect and hang-up, never per message)
    sessions: int = 0  # connections accepted since start
    refused_connections: int = 0  # turned away with 421 at --smtp-max-connections


@dataclass
class SmtpOptions:
    hostname: str = "mailsandbox"
    max_size: int = 50 * 1024 * 1024
    max_recipients: int = 1000
    timeout: float = 300.0
    credentials: dict[str, str] = field(default_factory=dict)  # empty: accept any
    tls_context: ssl.SSLContext | None = None  # None: no STARTTLS, no SMTPS
    require_tls: bool = False  # refuse commands before STARTTLS (RFC 3207 section 4)
    max_connections: int = 200  # 0: unlimited


class SandboxHandler:
    """aiosmtpd handler: policy hooks at each stage, ingest at DATA."""

    def __init__(self, mailbox: Mailbox, options: SmtpOptions, stats: SmtpStats) -> None:
        self.mailbox = mailbox
        self.options = options
        self.stats = stats
        self.policy_hooks: list[PolicyHook] = []
        # The open sessions, which :func:`mailsandbox.smtp.drain.drain` ends at shutdown.
        self.sessions: set[SandboxSMTP] = set()
        self.draining = False
        self.sessions_closed = asyncio.Event()  # set once draining and no session is left

    def session_opened(self, session: SandboxSMTP) -> None:
        self.sessions.add(session)

    def session_closed(self, session: SandboxSMTP) -> None:
        self.sessions.discard(session)
        if self.draining and not self.sessions:
            self.sessions_closed.set()

    def begin_draining(self) -> None:
        """From now on every session ends after its transaction (see the drain module)."""
        self.draining = True
        if not self.sessions:
            self.sessions_closed.set()

    # --- authentication ----------------------------------------------------------------
    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """PLAIN and LOGIN: any credentials without ``--smtp-auth``, else only those given."""
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", "replace")
        password = data.password.decode("utf-8", "replace")
        expected = self.options.credentials
        if expected and not _same(expected.get(user), password):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=user)

    def check_cram_md5(self, user: str, digest: str, challenge: bytes) -> AuthResult:
        expected = self.options.credentials
        if not expected:
            return AuthResult(success=True, auth_data=user)
        password = expected.get(user)
        if password is None:
            return AuthResult(success=False, handled=False)
        want = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
        if hmac.compare_digest(want, digest.lower()):
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    # --- stages -----------------------------------------------------------------------
    async def _policy(self, stage: str, **context: Any) -> str | None:
        for hook in self.policy_hooks:
            reply = await hook(stage, context)
            if reply is not None:
                return reply
        return None

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.options.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        reply = await self._policy("MAIL", session=session, address=address)
        if reply is not None:
            return self._refuse(server, reply)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.options.max_recipients:
            return "452 4.5.3 Too many recipients"
        reply = await self._policy("RCPT", session=session, envelope=envelope, address=address)
        if reply is not None:
            return self._refuse(server, reply)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await self._policy("DATA", session=session, envelope=envelope)
        if reply is not None:
            return self._refuse(server, reply)
        raw = envelope.original_content or b""
        username = session.auth_data if isinstance(session.auth_data, str) else ""
        try:
            summary = await self.mailbox.ingest(
                Inbound(
                    raw=raw,
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    source="smtp",
                    username=username,
                    inbox=username or "default",  # each SMTP user gets an inbox of its own
                ),
                searchable=False,  # 250 as soon as it is committed; indexing follows
            )
        except Exception:
            log.exception("could not store message")
            self.stats.rejected += 1
            return "451 4.3.0 Could not store the message, try again"
        self.stats.accepted += 1
        self.stats.accepted_bytes += summary.size
        return f"250 2.0.0 OK queued as {summary.id}"

    def _refuse(self, server: SMTP, reply: str) -> str:
        self.stats.rejected += 1
        if reply == DISCONNECT:
            flush = getattr(server, "_flush_replies", None)
            if flush is not None:  # replies held for pipelined commands go out first
                flush()
            if server.transport is not None:
                server.transport.close()
            return "421 4.4.2 Connection dropped"
        return reply


def _same(expected: str | None, given: str) -> bool:
    return expected is not None and hmac.compare_digest(expected.encode(), given.encode())
