"""Stopping SMTP without losing a message: :func:`drain`, called when the server shuts down.

SIGTERM (``docker stop``, a rolling restart, Ctrl-C) must not acknowledge a message it then
loses, nor store one whose 250 never leaves (the client would send it again: a duplicate). So:

1. the listeners stop accepting (a load balancer's next connection goes to another replica);
2. a session between transactions or in the middle of one before its data gets
   ``421 4.3.2`` at once and is closed: it has nothing stored, the client tries again later
   (RFC 5321 section 3.8: 421 may answer any command when the server must shut down);
3. a session sending or storing its message data carries on: once its message is committed it
   gets its 250, then the 421, and is closed;
4. after ``grace`` seconds, a client still sending data gets the 421 and is cut off (nothing
   of it was stored); a message already being committed is waited for (up to ``grace`` more),
   so that its 250 is sent before the database closes.

The database closes only after this returns (see ``SandboxServer.shutdown``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailsandbox.smtp.handler import SandboxHandler
    from mailsandbox.smtp.server import SmtpListener

SHUTTING_DOWN = b"421 4.3.2 Service shutting down, try again later\r\n"
GRACE = 5.0  # seconds a message being sent at shutdown has to arrive


async def drain(
    handler: SandboxHandler, listeners: Sequence[SmtpListener], grace: float | None = None
) -> None:
    """Stop accepting SMTP connections and end the open ones as the module docstring says
    (``grace``: :data:`GRACE` unless given)."""
    grace = GRACE if grace is None else grace
    for listener in listeners:
        listener.server.close()
    handler.begin_draining()
    for session in list(handler.sessions):
        if not (session.receiving_data or session.storing):
            session.say_goodbye()
    await _all_closed(handler, grace)
    for session in list(handler.sessions):
        if not session.storing:
            session.say_goodbye()
    await _all_closed(handler, grace)


async def _all_closed(handler: SandboxHandler, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(handler.sessions_closed.wait(), timeout)
