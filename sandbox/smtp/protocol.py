"""The SMTP protocol: aiosmtpd's ``SMTP`` with our EHLO, AUTH CRAM-MD5, and a fast DATA reader.

EHLO advertises SIZE, 8BITMIME, SMTPUTF8, PIPELINING, STARTTLS (before TLS only) and
``AUTH PLAIN LOGIN CRAM-MD5``. DATA is read in chunks (:mod:`mailsandbox.smtp.data`) instead of
aiosmtpd's line-at-a-time loop. Everything else (command parsing, STARTTLS, AUTH PLAIN/LOGIN,
timeouts) is aiosmtpd's.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import TYPE_CHECKING, Any, AnyStr

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, syntax

from mailsandbox.smtp.data import read_data
from mailsandbox.smtp.handler import DISCONNECT, SmtpOptions

if TYPE_CHECKING:
    from mailsandbox.smtp.handler import SandboxHandler

log = logging.getLogger("mail.log")  # aiosmtpd's logger
AUTH_LINE = "250-AUTH PLAIN LOGIN CRAM-MD5"
WRITE_BUFFER_LIMIT = 64 * 1024
_ATOMS = r"[^\s<>()\[\]\\,;:@\"]+"
# "<local@domain> PARAMS": the usual MAIL/RCPT argument, parsed without email's header parser.
_PLAIN_PATH = re.compile(rf"\s*<({_ATOMS}@{_ATOMS})>(.*)", re.DOTALL)


class SandboxSMTP(SMTP):
    """One SMTP connection."""

    def __init__(
        self, handler: SandboxHandler, options: SmtpOptions, *, starttls: bool, **kwargs: Any
    ) -> None:
        super().__init__(
            handler,
            data_size_limit=options.max_size or None,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=options.hostname,
            ident="mailsandbox ESMTP",
            tls_context=options.tls_context if starttls else None,
            timeout=options.timeout,
            auth_require_tls=False,  # a local sandbox: let apps authenticate in plain text
            authenticator=handler.authenticate,
            **kwargs,
        )
        self.sandbox_handler = handler
        self._deadline = 0.0
        self._replies: list[bytes] = []  # held while more pipelined commands are buffered

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            if status.startswith("250-AUTH "):
                status = AUTH_LINE  # aiosmtpd lists the mechanisms sorted; say them as usual
            elif status == "250 HELP":
                await self.push("250-PIPELINING")  # aiosmtpd reads commands as they come
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

    async def auth_CRAM__MD5(self, _: Any, args: list[str]) -> AuthResult:
        """AUTH CRAM-MD5 (RFC 2195): the digest is checked against ``--smtp-auth``."""
        challenge = f"<{secrets.token_hex(8)}.{int(time.time())}@{self.hostname}>".encode()
        response = await self.challenge_auth(challenge)
        if not isinstance(response, bytes):
            return AuthResult(success=False)
        try:
            user, _, digest = response.decode("utf-8").rpartition(" ")
        except UnicodeDecodeError:
            return AuthResult(success=False)
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
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        content = await read_data(self._reader, self.data_size_limit or 0)
        if content is None:
            self._set_post_data_state()
            await self.push("552 5.3.4 Message size exceeds fixed maximum message size")
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)
