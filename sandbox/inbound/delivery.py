"""What inbound deliveries share: the outbox row names a stored message, which is read when the
row is sent (not copied into the outbox), so a delivery always carries what is stored. A
message deleted before its delivery ends the row (``stopped``, with the reason), never a retry.
"""

from __future__ import annotations

from mailsandbox.events.dispatcher import Poster
from mailsandbox.events.outbox import AttemptResult, OutboxItem
from mailsandbox.events.providers import BaseProvider
from mailsandbox.inbound.records import stored_message
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.messages import MessageSummary

GONE = "the message was deleted before it could be delivered"


class InboundDelivery(BaseProvider):
    """Base of the inbound providers: :meth:`send` builds and sends one row's request."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def deliver(self, item: OutboxItem, post: Poster) -> AttemptResult:
        found = await self.sandbox.db.read(lambda conn: stored_message(conn, item.message_id))
        if found is None:
            return AttemptResult(0, 0.0, error=GONE, final=True)
        return await self.send(item, found[0], found[1], post)

    async def send(
        self, item: OutboxItem, message: MessageSummary, raw: bytes, post: Poster
    ) -> AttemptResult:
        raise NotImplementedError
