"""One POP3 connection: RFC 1939 (USER/PASS, STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP,
QUIT), RFC 2449 (CAPA, RESP-CODES, AUTH-RESP-CODE) and RFC 2595 (STLS).

Where Mailpit's server (``internal/pop3``, spec §12.5) differs from the RFCs, this follows the
RFCs: DELE'd messages disappear from the listings at once, TOP returns the number of body
lines asked for, RETR and TOP are dot-stuffed, STLS is offered when TLS is configured, and a
password may contain spaces. A failed PASS answers ``-ERR [AUTH] …`` and lets the client try
again. Commands are case-insensitive; a line longer than ``MAX_LINE`` octets ends the session.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from mailsandbox.logins import Login
from mailsandbox.pop3.maildrop import Maildrop, stuffed, top
from mailsandbox.reading import compute
from mailsandbox.storage import messages

if TYPE_CHECKING:
    from mailsandbox.pop3.server import Pop3Server

log = logging.getLogger(__name__)

MAX_LINE = 1024  # RFC 2449 allows 255 octets per command; some clients send longer passwords
IDLE_TIMEOUT = 600.0  # RFC 1939 §3: an autologout timer of at least 10 minutes
GREETING = "+OK mailsandbox POP3 server ready"

Command = Callable[[str], Awaitable[None]]


class Pop3Session:
    def __init__(
        self,
        server: Pop3Server,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        tls_active: bool,
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.tls_active = tls_active
        self.user: str | None = None
        self.login: Login | None = None
        self.drop: Maildrop | None = None
        self.done = False
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    # --- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        await self.send(GREETING)
        while not self.done:
            try:
                line = await asyncio.wait_for(self.reader.readuntil(b"\n"), IDLE_TIMEOUT)
            except (asyncio.LimitOverrunError, ValueError):
                await self.send("-ERR line too long")
                return
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return  # idle too long, or the client went away: nothing is deleted
            await self.dispatch(line.decode("utf-8", "replace").rstrip("\r\n"))

    async def dispatch(self, line: str) -> None:
        name, _, argument = line.partition(" ")
        command = self.commands().get(name.upper())
        if command is None:
            await self.send("-ERR unknown command")
            return
        await command(argument)

    def commands(self) -> dict[str, Command]:
        anytime: dict[str, Command] = {"CAPA": self.capa, "QUIT": self.quit, "NOOP": self.noop}
        if self.drop is None:
            return {**anytime, "USER": self.user_, "PASS": self.pass_, "STLS": self.stls,
                    **dict.fromkeys(TRANSACTION, self.not_yet)}  # fmt: skip
        transaction: dict[str, Command] = {
            "STAT": self.stat, "LIST": self.list_, "UIDL": self.uidl, "RETR": self.retr,
            "TOP": self.top, "DELE": self.dele, "RSET": self.rset,
        }  # fmt: skip
        return {**anytime, **transaction, **dict.fromkeys(AUTHORIZATION, self.already)}

    async def send(self, *lines: str | bytes) -> None:
        data = b"".join(
            (line if isinstance(line, bytes) else line.encode("utf-8") + b"\r\n") for line in lines
        )
        self.writer.write(data)
        await self.writer.drain()

    # --- any state -----------------------------------------------------------------------
    async def capa(self, argument: str) -> None:
        lines = ["+OK capability list follows", "TOP", "USER", "UIDL", "RESP-CODES",
                 "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"]  # fmt: skip
        if self.drop is None and self.server.tls_context is not None and not self.tls_active:
            lines.append("STLS")
        await self.send(*lines, "IMPLEMENTATION mailsandbox", ".")

    async def noop(self, argument: str) -> None:
        await self.send("+OK" if self.drop is not None else "-ERR not logged in")

    async def quit(self, argument: str) -> None:
        self.done = True
        if self.drop is None:
            await self.send("+OK mailsandbox POP3 server signing off")
            return
        marked = self.drop.marked()
        if marked:
            await self.server.sandbox.mailbox.delete(marked)
        await self.send(f"+OK mailsandbox POP3 server signing off ({len(marked)} deleted)")

    # --- authorization -------------------------------------------------------------------
    async def not_yet(self, argument: str) -> None:
        await self.send("-ERR not logged in")

    async def already(self, argument: str) -> None:
        await self.send("-ERR already logged in")

    async def stls(self, argument: str) -> None:
        context = self.server.tls_context
        if self.tls_active:
            await self.send("-ERR TLS already active")
            return
        if context is None:
            await self.send("-ERR STLS not available: start with --pop3-tls self-signed")
            return
        await self.send("+OK begin TLS negotiation")
        try:
            await self.writer.start_tls(context)
        except (ssl.SSLError, OSError) as exc:
            log.info("POP3 TLS handshake with %s failed: %s", self.peer, exc)
            self.done = True
            return
        self.tls_active = True
        self.user = None  # RFC 2595 §4: forget what was said before TLS

    async def user_(self, argument: str) -> None:
        if not argument:
            await self.send("-ERR USER needs a name")
            return
        self.user = argument
        await self.send("+OK send PASS")

    async def pass_(self, argument: str) -> None:
        if self.user is None:
            await self.send("-ERR USER first")
            return
        login = self.server.logins.check(self.user, argument)
        user, self.user = self.user, None
        self.server.login_results["ok" if login else "refused"] += 1
        if login is None:
            log.info("POP3 login as %r from %s refused", user, self.peer)
            await self.send("-ERR [AUTH] invalid user name or password")
            return
        inboxes = login.inboxes
        self.drop = await self.server.sandbox.db.read(lambda conn: Maildrop.read(conn, inboxes))
        self.login = login
        count, octets = self.drop.stat()
        await self.send(f"+OK {user}'s maildrop has {count} messages ({octets} octets)")

    # --- transaction ---------------------------------------------------------------------
    @property
    def maildrop(self) -> Maildrop:
        assert self.drop is not None
        return self.drop

    async def stat(self, argument: str) -> None:
        count, octets = self.maildrop.stat()
        await self.send(f"+OK {count} {octets}")

    async def list_(self, argument: str) -> None:
        await self._listing(argument, lambda e: str(e.size), "scan listing")

    async def uidl(self, argument: str) -> None:
        await self._listing(argument, lambda e: e.id, "unique-id listing")

    async def _listing(self, argument: str, value: Callable[..., str], what: str) -> None:
        if argument:
            entry = self.maildrop.get(argument.strip())
            if entry is None:
                await self.send("-ERR no such message")
                return
            await self.send(f"+OK {entry.number} {value(entry)}")
            return
        live = self.maildrop.live()
        await self.send(f"+OK {what} follows", *(f"{e.number} {value(e)}" for e in live), ".")

    async def retr(self, argument: str) -> None:
        raw = await self._raw(argument)
        if raw is not None:
            await self.send(f"+OK {len(raw)} octets", await compute(len(raw), stuffed, raw), ".")

    async def top(self, argument: str) -> None:
        number, _, lines = argument.strip().partition(" ")
        if not lines.strip().isdigit():
            await self.send("-ERR TOP needs a message number and a number of lines")
            return
        raw = await self._raw(number)
        if raw is not None:
            head = await compute(len(raw), lambda: stuffed(top(raw, int(lines))))
            await self.send("+OK top of message follows", head, ".")

    async def _raw(self, argument: str) -> bytes | None:
        entry = self.maildrop.get(argument.strip())
        if entry is None:
            await self.send("-ERR no such message")
            return None
        sandbox = self.server.sandbox
        summary = await sandbox.db.read(lambda conn: messages.get_summary(conn, entry.id))
        # read through the shared reader: off the event loop, big ones a few at a time
        raw = await sandbox.reader.raw(summary.seq, summary.size) if summary is not None else b""
        if not raw:
            await self.send("-ERR message deleted from the sandbox since you logged in")
            return None
        return raw

    async def dele(self, argument: str) -> None:
        entry = self.maildrop.get(argument.strip())
        if entry is None:
            await self.send("-ERR no such message")
            return
        entry.deleted = True
        await self.send(f"+OK message {entry.number} deleted")

    async def rset(self, argument: str) -> None:
        self.maildrop.reset()
        count, octets = self.maildrop.stat()
        await self.send(f"+OK maildrop has {count} messages ({octets} octets)")


TRANSACTION = ("STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET")
AUTHORIZATION = ("USER", "PASS", "STLS")
