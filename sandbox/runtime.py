"""The Sandbox: the one object that owns the process's resources (database, bus, ingest, SMTP).

Built from :class:`~mailsandbox.config.Settings` by the composition root and started/stopped by the
app's lifespan. Add-ons (emulators, web UI, event engine) attach to it before it starts:
they add migrations, write hooks, SMTP policy hooks, and startup/shutdown callbacks, and keep
their own state in ``extensions``. The core never imports them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mailsandbox import bus, indexer
from mailsandbox.config import Settings, parse_duration
from mailsandbox.inbox_rules import InboxRules, parse_all
from mailsandbox.ingest import Ingestor
from mailsandbox.smtp import tls
from mailsandbox.smtp.server import SandboxHandler, SmtpListener, SmtpOptions, SmtpStats, listen
from mailsandbox.storage import events, messages
from mailsandbox.storage import inbox_rules as inbox_rule_store
from mailsandbox.storage.db import Database, Migration
from mailsandbox.storage.migrations import CORE_MIGRATIONS

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]
PRUNE_INTERVAL = 1.0


def record_queued(conn: sqlite3.Connection, new: messages.NewMessage, seq: int) -> None:
    """Write hook: every envelope recipient of an accepted message starts as ``queued``
    (kept in ``new.events`` for the hooks that follow)."""
    for recipient in new.recipients:
        new.events.append(
            events.add(
                conn,
                events.DeliveryEvent(
                    message_id=new.id, type="queued", recipient=recipient, provider=new.source
                ),
            )
        )


class Sandbox:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bus = bus.EventBus()
        self.migrations: list[Migration] = [*CORE_MIGRATIONS, *indexer.MIGRATIONS]
        self.db = Database(
            settings.db_path, self.migrations, attachments=[indexer.attachment(settings.db_path)]
        )
        self.ingestor = Ingestor(self.db, self.bus, settings.smtp_hostname)
        self.ingestor.write_hooks.append(record_queued)
        self.ingestor.inbox_rules = InboxRules(parse_all(settings.inbox_rule))
        self.smtp_stats = SmtpStats()
        # The certificate STARTTLS/SMTPS serve (None: no TLS). Loaded now, so a bad file stops
        # create_app with a one-line ValueError before anything listens.
        self.tls_certificate: Path | None = None
        tls_context = self._tls_context()
        self.smtp_handler = SandboxHandler(
            self.ingestor,
            SmtpOptions(
                hostname=settings.smtp_hostname,
                max_size=settings.smtp_max_size,
                max_recipients=settings.smtp_max_recipients,
                timeout=settings.smtp_timeout,
                credentials=settings.smtp_credentials,
                tls_context=tls_context,
                require_tls=settings.smtp_require_tls,
                max_connections=settings.smtp_max_connections,
            ),
            self.smtp_stats,
        )
        self.extensions: dict[str, Any] = {}
        self.on_startup: list[Callback] = []
        self.on_shutdown: list[Callback] = []
        self.listeners: list[SmtpListener] = []
        self.started_at = time.time()
        self.messages_deleted = 0
        self.ready = False
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop it runs on, once started
        self._tasks: list[asyncio.Task[None]] = []
        self._pruned_at_count = -1

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.db.open)
        await asyncio.to_thread(self.ingestor.indexer.start, self.loop)
        await self.reload_inbox_rules()
        smtp_host, smtp_port = self.settings.smtp_address
        self.listeners.append(await listen(self.smtp_handler, smtp_host, smtp_port))
        if self.settings.smtps_address is not None:
            host, port = self.settings.smtps_address
            self.listeners.append(await listen(self.smtp_handler, host, port, implicit_tls=True))
        self.spawn(self._retention_loop())
        for callback in self.on_startup:
            await callback()
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for callback in reversed(self.on_shutdown):
            try:
                await callback()
            except Exception:
                log.exception("shutdown callback failed")
        for listener in self.listeners:
            listener.server.close()
        for listener in self.listeners:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.server.wait_closed(), 2)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.to_thread(self.db.close)
        await asyncio.to_thread(self.ingestor.indexer.stop)  # after the writer's last commit

    async def reload_inbox_rules(self) -> None:
        """Put the rules in force: ``--inbox-rule`` ones, then the stored ones."""
        stored = await self.db.read(inbox_rule_store.list_rules)
        flags = parse_all(self.settings.inbox_rule)
        self.ingestor.inbox_rules = InboxRules([*flags, *stored])

    def spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        """Run a background task for the life of the sandbox (cancelled at stop)."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.append(task)
        return task

    def _tls_context(self) -> ssl.SSLContext | None:
        """TLS only when asked for: the given pair, or the self-signed one beside the db."""
        settings = self.settings
        pair = tls.configured_pair(
            settings.smtp_tls, settings.smtp_tls_cert, settings.smtp_tls_key, settings.data_dir
        )
        if pair is None:
            return None
        cert, key = pair
        context = tls.server_context(cert, key)
        self.tls_certificate = cert
        return context

    # --- addresses ---------------------------------------------------------------------
    @property
    def smtp_address(self) -> tuple[str, int]:
        return next(lst.address for lst in self.listeners if not lst.tls)

    @property
    def smtps_address(self) -> tuple[str, int] | None:
        return next((lst.address for lst in self.listeners if lst.tls), None)

    # --- retention ---------------------------------------------------------------------
    async def _retention_loop(self) -> None:
        max_age = parse_duration(self.settings.max_age) if self.settings.max_age else None
        while True:
            await asyncio.sleep(PRUNE_INTERVAL)
            if self.settings.max_messages <= 0 and max_age is None:
                continue
            if self.ingestor.accepted == self._pruned_at_count and max_age is None:
                continue
            self._pruned_at_count = self.ingestor.accepted
            await self.prune_now(max_age)

    async def prune_now(self, max_age: float | None = None) -> list[str]:
        min_created = time.time() - max_age if max_age is not None else None
        deleted = await self.db.write(
            lambda conn: messages.prune(conn, self.settings.max_messages, min_created)
        )
        if deleted:
            self.messages_deleted += len(deleted)
            self.bus.publish(bus.BusEvent(bus.PRUNE, None))
        return deleted
