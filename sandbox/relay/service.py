"""The relay: releases on request, auto-relay of matching new messages, and their records.

A release checks its request the way Mailpit's ``server/apiv1/release.go`` does, in the same
order and with the same error texts (spec §12.4): unknown message (404), an entry that is not
an address, recipients outside ``--relay-allow``, no recipients, then the SMTP session
(``SMTP error: …``). Auto-relay (``--relay-match``) looks at each message once it is stored
and searchable, in arrival order, one at a time in the background, so a slow upstream never
holds up ingest; it sends to the envelope recipients that ``--relay-allow`` accepts (unlike
Mailpit's, which ignores its allowlist there) and records what it did.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from functools import partial

from mailsandbox import ids
from mailsandbox.bus import NEW, BusEvent
from mailsandbox.logins import Visible
from mailsandbox.reading import compute
from mailsandbox.relay import client, store
from mailsandbox.relay.config import RelayConfig
from mailsandbox.relay.message import bare_address, relayed_copy
from mailsandbox.relay.store import Release
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages
from mailsandbox.storage import search as finder
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

log = logging.getLogger(__name__)

NOT_CONFIGURED = "SMTP error: no relay server is configured (start with --relay-host HOST:PORT)"


class ReleaseError(Exception):
    """A release that cannot be done: the HTTP status and Mailpit's error text."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _plural(count: int) -> str:
    return f"{count} Address" if count == 1 else f"{count} Addresses"


class Relay:
    def __init__(self, sandbox: Sandbox, config: RelayConfig | None) -> None:
        self.sandbox = sandbox
        self.config = config
        self._arrivals: asyncio.Queue[MessageSummary] = asyncio.Queue()
        self.results: dict[tuple[str, str], int] = {}  # (trigger, sent|failed), for /metrics

    # --- releases ------------------------------------------------------------------------
    def check_recipients(self, entries: Sequence[str]) -> list[str]:
        """The bare addresses of a release's ``To`` entries; ReleaseError (400) if unfit."""
        addresses = []
        for entry in entries:
            address = bare_address(entry)
            if not address:
                raise ReleaseError(400, f"Invalid email address: {entry}")
            addresses.append(address)
        if self.config is not None:
            refused = [
                e for e, a in zip(entries, addresses, strict=True) if not self.config.allowed(a)
            ]
            if refused:
                listed = ", ".join(refused)
                raise ReleaseError(
                    400, f"Failed: {_plural(len(refused))} do not match the allowlist: {listed}"
                )
        if not addresses:
            raise ReleaseError(400, "No valid addresses found")
        return addresses

    async def release(
        self, message_id: str, entries: Sequence[str], visible: Visible = None
    ) -> Release:
        """Send a stored message to ``entries`` (``a@b`` or ``Name <a@b>``); the record of it.

        Raises ReleaseError: 404 for an unknown message (or one outside the ``visible``
        inboxes), 400 for unfit recipients, no relay configured or an upstream failure (which
        is recorded first).
        """
        summary = await self.sandbox.db.read(
            lambda conn: messages.get_summary(conn, message_id, visible)
        )
        if summary is None:
            raise ReleaseError(404, "404 page not found")
        recipients = self.check_recipients(entries)
        if self.config is None:
            raise ReleaseError(400, NOT_CONFIGURED)
        record = await self._send(self.config, summary, recipients, "release")
        if not record.ok:
            raise ReleaseError(400, f"SMTP error: {record.reply}")
        return record

    async def history(self, message_id: str, visible: Visible = None) -> list[Release]:
        """The message's releases; none for a message outside the ``visible`` inboxes."""

        def read(conn: Connection) -> list[Release]:
            if visible is not None and messages.get_summary(conn, message_id, visible) is None:
                return []
            return store.for_message(conn, message_id)

        return await self.sandbox.db.read(read)

    async def _send(
        self,
        config: RelayConfig,
        summary: MessageSummary,
        recipients: list[str],
        trigger: str,
    ) -> Release:
        sender = config.sender or summary.mail_from or summary.from_.address
        record = Release(
            summary.id, time.time(), trigger, config.server, sender, recipients, False, ""
        )
        # through the shared reader: off the event loop, big ones a few at a time
        raw = await self.sandbox.reader.raw(summary.seq, summary.size)
        if not raw:
            raise ReleaseError(404, "404 page not found")  # deleted meanwhile
        copy = await compute(
            len(raw),
            partial(
                relayed_copy,
                raw,
                release=trigger == "release",
                message_id=ids.new_id(),
                hostname=self.sandbox.settings.smtp_hostname,
            ),
        )
        del raw
        try:
            record.reply = await asyncio.to_thread(client.deliver, config, sender, recipients, copy)
            record.ok = True
        except client.RelayError as exc:
            record.reply = str(exc)
            log.warning("relay of %s to %s failed: %s", summary.id, ", ".join(recipients), exc)
        await self.sandbox.db.write(lambda conn: store.add(conn, record))
        outcome = (trigger, "sent" if record.ok else "failed")
        self.results[outcome] = self.results.get(outcome, 0) + 1
        return record

    # --- auto-relay ----------------------------------------------------------------------
    def on_bus(self, event: BusEvent) -> None:
        # (a message another replica accepted is relayed there: once, not once per replica)
        if event.type == NEW and isinstance(event.data, MessageSummary) and not event.remote:
            self._arrivals.put_nowait(event.data)

    async def start(self) -> None:
        self.sandbox.spawn(self._auto_relay())

    async def _auto_relay(self) -> None:
        while True:
            summary = await self._arrivals.get()
            try:
                await self.relay_if_matching(summary)
            except Exception:
                log.exception("auto-relay of %s failed", summary.id)

    async def relay_if_matching(self, summary: MessageSummary) -> Release | None:
        """Relay a new message if it matches ``--relay-match`` (the record, or None)."""
        config = self.config
        if config is None or not config.match:
            return None

        def read(conn: Connection) -> MessageSummary | None:
            matching = finder.matches(conn, config.match, summary.id)
            return messages.get_summary(conn, summary.id) if matching else None

        found = await self.sandbox.db.read(read)
        if found is None:
            return None
        recipients = [r for r in summary.recipients if config.allowed(r)]
        if not recipients:
            reply = "no envelope recipient matches --relay-allow: not relayed"
            record = Release(summary.id, time.time(), "auto", config.server, "", [], False, reply)
            await self.sandbox.db.write(lambda conn: store.add(conn, record))
            return record
        return await self._send(config, found, recipients, "auto")
