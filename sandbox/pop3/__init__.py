"""POP3 access to the stored mail (``--pop3 HOST:PORT``, ``--pop3s`` for implicit TLS).

Each login sees the messages of the inboxes it is scoped to (all without a scope); see
:mod:`mailsandbox.pop3.session` for the protocol and :mod:`mailsandbox.pop3.maildrop` for what a
session sees. :func:`install` attaches the server to a Sandbox when a POP3 address is given;
:func:`pop3_of` finds it again (None when POP3 is off).
"""

from __future__ import annotations

from mailsandbox.config import parse_hostport
from mailsandbox.logins import Logins
from mailsandbox.pop3.access import EXTENSION_KEY, pop3_of
from mailsandbox.pop3.server import Pop3Server
from mailsandbox.runtime import Sandbox


def pop3_logins(sandbox: Sandbox) -> Logins:
    """The ``--ui-auth`` logins, then the POP3-only ones, with their ``--inbox-scope``."""
    settings = sandbox.settings
    credentials = [*settings.ui_logins, *settings.pop3_credentials.items()]
    return Logins(credentials, settings.inbox_scopes)


def install(sandbox: Sandbox) -> Pop3Server | None:
    """Serve POP3 if asked to; a bad TLS file is a one-line ``ValueError`` here, at start-up."""
    settings = sandbox.settings
    if not (settings.pop3 or settings.pop3s):
        return None
    from mailsandbox.smtp import tls  # cryptography: only when POP3 is served

    pair = tls.configured_pair(
        settings.pop3_tls, settings.pop3_tls_cert, settings.pop3_tls_key, settings.data_dir
    )
    context = tls.server_context(*pair) if pair is not None else None
    server = Pop3Server(sandbox, pop3_logins(sandbox), context)

    async def start() -> None:
        if settings.pop3:
            await server.listen(*parse_hostport(settings.pop3))
        if settings.pop3s:
            await server.listen(*parse_hostport(settings.pop3s), implicit_tls=True)

    sandbox.on_startup.append(start)
    sandbox.on_shutdown.append(server.stop)
    sandbox.extensions[EXTENSION_KEY] = server
    return server


__all__ = ["Pop3Server", "install", "pop3_of"]
