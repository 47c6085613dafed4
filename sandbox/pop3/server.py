"""The POP3 listeners (``--pop3``, and ``--pop3s`` with implicit TLS) on the app's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl

from mailsandbox import startup
from mailsandbox.logins import Logins
from mailsandbox.pop3.session import MAX_LINE, Pop3Session
from mailsandbox.runtime import Sandbox

log = logging.getLogger(__name__)


class Pop3Server:
    def __init__(
        self, sandbox: Sandbox, logins: Logins, tls_context: ssl.SSLContext | None
    ) -> None:
        self.sandbox = sandbox
        self.logins = logins
        self.tls_context = tls_context
        self.servers: list[tuple[asyncio.Server, bool]] = []
        self._sessions: set[asyncio.Task[None]] = set()
        self.sessions = 0  # connections accepted, for /metrics
        self.login_results: dict[str, int] = {"ok": 0, "refused": 0}

    async def listen(self, host: str, port: int, *, implicit_tls: bool = False) -> None:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._sessions.add(task)
            self.sessions += 1
            try:
                await Pop3Session(self, reader, writer, tls_active=implicit_tls).run()
            except Exception:
                log.exception("POP3 session failed")
            finally:
                self._sessions.discard(task)
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

        try:
            server = await asyncio.start_server(
                serve, host, port, limit=MAX_LINE, reuse_address=True,
                ssl=self.tls_context if implicit_tls else None,
            )  # fmt: skip
        except OSError as exc:  # a port in use...: one line, exit status 2 (mailsandbox serve)
            service, flag = ("POP3S", "--pop3s") if implicit_tls else ("POP3", "--pop3")
            raise startup.bind_error(service, flag, host, port, exc) from None
        self.servers.append((server, implicit_tls))

    def address(self, *, implicit_tls: bool = False) -> tuple[str, int] | None:
        for server, tls in self.servers:
            if tls == implicit_tls:
                host, port = server.sockets[0].getsockname()[:2]
                return str(host), int(port)
        return None

    async def stop(self) -> None:
        for server, _ in self.servers:
            server.close()
        for task in list(self._sessions):
            task.cancel()  # an open session ends without QUIT: nothing is deleted
        for server, _ in self.servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
