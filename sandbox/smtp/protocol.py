"""The SMTP protocol: aiosmtpd's ``SMTP`` with our EHLO, AUTH CRAM-MD5, and a fast DATA reader.

EHLO advertises SIZE, 8BITMIME, SMTPUTF8, PIPELINING, STARTTLS (when TLS is configured, before
TLS only) and ``AUTH PLAIN LOGIN CRAM-MD5``. DATA is read in chunks (:mod:`mailsandbox.smtp.data`)
instead of aiosmtpd's line-at-a-time loop, and every chunk moves the idle deadline. Connections
beyond ``--smtp-max-connections`` get 421. Everything else (command parsing, STARTTLS, AUTH
PLAIN/LOGIN, timeouts) is aiosmtpd's.

This subclass uses private members of aiosmtpd 1.4 (pinned in pyproject.toml);
``tests/sandbox/smtp/test_aiosmtpd_canary.py`` fails loudly if they change.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from typing import TYPE_CHECKING, Any, AnyStr

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Session, TLSSetupException, syntax

from mailsandbox.smtp.data import read_data
from mailsandbox.smtp.drain import SHUTTING_DOWN
from mailsandbox.smtp.handler import DISCONNECT, SmtpOptions

if TYPE_CHECKING:
    from mailsandbox.smtp.handler import SandboxHandler

log = logging.getLogger("mail.log")  # aiosmtpd's logger
tls_log = logging.getLogger(__name__)
AUTH_LINE = "250-AUTH PLAIN LOGIN CRAM-MD5"
# aiosmtpd's reply with --smtp-require-tls (RFC 3207's example text), with an enhanced code.
STARTTLS_FIRST = "530 Must issue a STARTTLS command first"
STARTTLS_FIRST_ENHANCED = "530 5.7.0 Must issue a STARTTLS command first"
TLS_ACTIVE = "503 5.5.1 TLS already active"
BAD_CRAM_ANSWER = "501 5.5.2 Can't decode the CRAM-MD5 answer"
TOO_MANY_CONNECTIONS = b"421 4.7.0 Too many connections, try again later\r\n"
WRITE_BUFFER_LIMIT = 64 * 1024
_ATOMS = r"[^\s<>()\[\]\\,;:@\"]+"
# "<local@domain> PARAMS": the usual MAIL/RCPT argument, parsed without email's header parser.
_PLAIN_PATH = re.compile(rf"\s*<({_ATOMS}@{_ATOMS})>(.*)", re.DOTALL)


class SandboxSession(Session):
    """aiosmtpd's session, minus the warning its deprecated ``login_data`` property logs each time
    aiosmtpd itself sets it (on every successful AUTH): here it is a plain attribute."""

    login_data: Any = None


class SandboxSMTP(SMTP):
    """One SMTP connection; on an SMTPS listener (``implicit_tls``) it is already encrypted."""

    def __init__(
        self, handler: SandboxHandler, options: SmtpOptions, *, implicit_tls: bool, **kwargs: Any
    ) -> None:
        starttls = options.tls_context is not None and not implicit_tls
        require_tls = starttls and options.require_tls
        super().__init__(
            handler,
            data_size_limit=options.max_size or None,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=options.hostname,
            ident="mailsandbox ESMTP",
            tls_context=options.tls_context if starttls else None,
            # RFC 3207 section 4: every command but EHLO, STARTTLS, NOOP, QUIT gets 530 first.
            require_starttls=require_tls,
            timeout=options.timeout,
            # A local sandbox lets apps authenticate in plain text, unless TLS is required:
            # then AUTH is not advertised before STARTTLS either (RFC 4954 section 4).
            auth_require_tls=require_tls,
            authenticator=handler.authenticate,
            **kwargs,
        )
        self.sandbox_handler = handler
        self.implicit_tls = implicit_tls
        self._counted = False  # whether this connection is in stats.connections
        self._deadline = 0.0
        self._replies: list[bytes] = []  # held while more pipelined commands are buffered
        # Where the session is in DATA: shutdown lets a message being sent or stored finish.
        self.receiving_data = False
        self.storing = False

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            if status.startswith("250-AUTH "):
                status = AUTH_LINE  # aiosmtpd lists the mechanisms sorted; say them as usual
            elif status == "250 HELP":
                await self.push("250-PIPELINING")  # aiosmtpd reads commands as they come
            elif status == STARTTLS_FIRST:
                status = STARTTLS_FIRST_ENHANCED
        transport = self.transport
        if transport is None or transport.is_closing() or log.isEnabledFor(logging.DEBUG):
            self._flush_replies()
            await super().push(status)  # raises on a lost connection; logs the reply
            return
        # The usual case, without aiosmtpd's drain() per reply: wait only when the client
        # does not read its replies (the write buffer passed the high-water mark).
        line = (status.encode("utf-8") if isinstance(status, str) else status) + b"\r\n"
        if line.startswith(b"250 ") and b"\n" in self._reader._buffer:  # type: ignore[attr-defined]
            # A pipelined command is already waiting (RCPT after MAIL, DATA after RCPT): its
            # reply goes out together with this one, one write and one packet for the lot.
            self._replies.append(line)
            return
        self._replies.append(line)
        self._flush_replies()
        if self._writer.transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
            await self._writer.drain()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Called again on the TLS transport after STARTTLS: count and refuse only the first time.
        if self._original_transport is None and not self._counted:
            stats, limit = self.sandbox_handler.stats, self.sandbox_handler.options.max_connections
            if 0 < limit <= stats.connections:
                # Turned away before aiosmtpd starts a session: one write and a close.
                stats.refused_connections += 1
                transport.write(TOO_MANY_CONNECTIONS)  # type: ignore[attr-defined]
                transport.close()
                return
            if self.sandbox_handler.draining:  # accepted as the listener closed
                transport.write(SHUTTING_DOWN)  # type: ignore[attr-defined]
                transport.close()
                return
            stats.connections += 1
            stats.sessions += 1
            self._counted = True
            self.sandbox_handler.session_opened(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted:
            self._counted = False
            self.sandbox_handler.stats.connections -= 1
            self.sandbox_handler.session_closed(self)
        if self.session is None:  # refused in connection_made: aiosmtpd never took it up
            return
        super().connection_lost(error)

    def say_goodbye(self) -> None:
        """End the session at shutdown: replies held so far, then 421, then close."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self._flush_replies()
        self._writer.write(SHUTTING_DOWN)
        transport.close()

    def _create_session(self) -> Session:
        return SandboxSession(self.loop)

    def _flush_replies(self) -> None:
        if self._replies:
            self._writer.write(b"".join(self._replies))
            self._replies.clear()

    def _reset_timeout(self, duration: float | None = None) -> None:
        """Move the idle deadline. aiosmtpd replaces its timer at every command; here one
        timer serves until it fires, and re-arms itself if the deadline has moved on."""
        self._deadline = self.loop.time() + (duration or self._timeout_duration)
        handle = self._timeout_handle
        if handle is None or handle.cancelled() or handle.when() > self._deadline:
            if handle is not None:
                handle.cancel()
            self._timeout_handle = self.loop.call_at(self._deadline, self._idle_check)

    def _idle_check(self) -> None:
        if self.loop.time() < self._deadline:
            self._timeout_handle = self.loop.call_at(self._deadline, self._idle_check)
        else:
            self._timeout_cb()

    async def smtp_AUTH(self, arg: str) -> None:
        reply = await self.sandbox_handler._policy("AUTH", session=self.session, arg=arg)
        if reply is None:
            await super().smtp_AUTH(arg)
        elif reply == DISCONNECT:
            if self.transport is not None:
                self.transport.close()
        else:
            await self.push(reply)

    @syntax("STARTTLS", when="tls_context")
    async def smtp_STARTTLS(self, arg: str) -> None:
        # aiosmtpd would answer 220 and start a TLS handshake inside TLS, which fails and drops
        # the connection; RFC 3207 defines no reply for it, 503 (bad sequence) keeps the session.
        if self._tls_protocol is not None or self.implicit_tls:
            await self.push(TLS_ACTIVE)
            return
        await super().smtp_STARTTLS(arg)

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):
            # The client gave up the STARTTLS handshake (typically: it does not trust the
            # certificate). One line, not aiosmtpd's traceback; aiosmtpd then closes.
            tls_log.warning("%s", handshake_failure(self.session, error.__cause__))
            return "454 4.7.0 TLS handshake failed"
        return await super().handle_exception(error)

    async def auth_CRAM__MD5(self, _: Any, args: list[str]) -> AuthResult:
        """AUTH CRAM-MD5 (RFC 2195): the digest is checked against ``--smtp-auth``."""
        challenge = f"<{secrets.token_hex(8)}.{int(time.time())}@{self.hostname}>".encode()
        response = await self.challenge_auth(challenge)
        if not isinstance(response, bytes):
            return AuthResult(success=False)  # challenge_auth has answered (501 or aborted)
        try:
            user, _, digest = response.decode("utf-8").rpartition(" ")
        except UnicodeDecodeError:
            user = ""
        if not user:
            # Valid base64 that is not "user digest" in UTF-8: a malformed answer, like
            # aiosmtpd's "Can't split auth value" for PLAIN (RFC 4954: 501 for a bad answer).
            return AuthResult(success=False, handled=False, message=BAD_CRAM_ANSWER)
        return self.sandbox_handler.check_cram_md5(user, digest, challenge)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN_PATH.fullmatch(arg) if arg else None
        if plain is None or len(plain.group(1).rpartition("@")[0]) > self.local_part_limit > 0:
            return super()._getaddr(arg)
        return plain.group(1), plain.group(2).strip()

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        self.receiving_data = True
        try:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            # Every chunk received moves the idle deadline: a slow upload is not cut off.
            limit = self.data_size_limit or 0
            content = await read_data(self._reader, limit, self._reset_timeout)
        finally:
            self.receiving_data = False
        if content is None:
            self._set_post_data_state()
            await self.push("552 5.3.4 Message size exceeds fixed maximum message size")
        else:
            self.envelope.content = self.envelope.original_content = content
            self.storing = True
            try:
                status = await self._call_handler_hook("DATA")
            finally:
                self.storing = False
            self._set_post_data_state()
            await self.push("250 OK" if status is MISSING else status)
        if self.sandbox_handler.draining:  # shutting down: this was the session's last message
            self.say_goodbye()


def handshake_failure(session: Session | None, cause: BaseException | None) -> str:
    """The one log line for a STARTTLS handshake the client broke off."""
    peer = session.peer if session is not None else None
    where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
    detail = str(cause or "") or "the client closed the connection during the handshake"
    reason = str(getattr(cause, "reason", None) or "")
    # A client that refuses the certificate sends an alert (OpenSSL) or just hangs up (Node).
    if not reason or "CA" in reason.split("_") or "CERTIFICATE" in reason:
        detail += "; does the client trust the certificate? (see docs/smtp.md)"
    return f"STARTTLS from {where} failed: {detail}"
