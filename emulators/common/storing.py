"""Storing the messages of one API send through the shared ingest path.

The answer follows the commit, as an SMTP 250 does: the search index catches up within
milliseconds and every read of the API waits for it (``Database.read_barrier``), so nothing can
tell. One message (the common case) is awaited directly, without a task for ``gather``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from mailsandbox.ingest import Inbound
from mailsandbox.runtime import Sandbox


async def store_all(sandbox: Sandbox, inbounds: Sequence[Inbound]) -> None:
    """Ingest ``inbounds``; returns once every one is committed."""
    ingest = sandbox.mailbox.ingest
    if len(inbounds) == 1:
        await ingest(inbounds[0], searchable=False)
    elif inbounds:
        await asyncio.gather(*(ingest(i, searchable=False) for i in inbounds))
