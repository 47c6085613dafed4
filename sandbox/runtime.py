"""The Sandbox: the one object that owns the process's resources (database, bus, mailbox, SMTP).

Built from :class:`~mailsandbox.config.Settings` by the composition root and started/stopped by the
app's lifespan. Add-ons (emulators, web UI, event engine) attach to it before it starts:
they add migrations, write hooks, SMTP policy hooks, and startup/shutdown callbacks, and keep
their own state in ``extensions``. The core never imports them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mailsandbox import bus, indexer, startup
from mailsandbox.config import Settings, parse_duration
from mailsandbox.inbox_rules import InboxRules, parse_all
from mailsandbox.mailbox import Mailbox
from mailsandbox.reading import MessageReader
from mailsandbox.smtp.server import SandboxHandler, SmtpListener, SmtpOptions, SmtpStats, listen
from mailsandbox.storage import coordination, events, messages, suppressions, webhooks
from mailsandbox.storage import inbox_rules as inbox_rule_store
from mailsandbox.storage.db import Database, Migration
from mailsandbox.storage.migrations import CORE_MIGRATIONS
from mailsandbox.storage.sql import Connection
from mailsandbox.tasks import cancel_and_wait
from mailsandbox.team import Team

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]
PRUNE_INTERVAL = 1.0
INBOX_RULES = "inbox_rules"  # team topic: the stored inbox rules changed


def record_queued(conn: Connection, new: messages.NewMessage, seq: int) -> None:
    """Write hook: every envelope recipient of an accepted message starts as ``queued``
    (kept in ``new.events`` for the hooks that follow)."""
    queued = [
        events.DeliveryEvent(
            message_id=new.id, type="queued", recipient=recipient, provider=new.source
        )
        for recipient in new.recipients
    ]
    new.events += events.add_all(conn, queued)


class Sandbox:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bus = bus.EventBus()
        self.migrations: list[Migration] = [*CORE_MIGRATIONS, *indexer.MIGRATIONS]
        if settings.database_url is not None:  # team mode (see docs/team.md)
            self.db = Database(settings.database_url, self.migrations)
        else:
            # Before anything (add-ons included) writes files beside the database.
            startup.check_database_path(settings.db_path)
            self.db = Database(
                settings.db_path,
                self.migrations,
                attachments=[indexer.attachment(settings.db_path)],
            )
        self.db.check_files()
        # (what every ingest asks in its transaction: sent with the BEGIN on PostgreSQL)
        self.db.read_ahead += [webhooks.READ_AHEAD, suppressions.READ_AHEAD]
        self.db.reserve = messages.reserve_seqs
        self.reader = MessageReader(self.db)  # parsed messages for the read routes
        self.mailbox = Mailbox(
            self.db,
            self.bus,
            indexer.for_database(self.db),
            settings.smtp_hostname,
            plus_tags=settings.plus_tags,
        )
        self.mailbox.write_hooks.append(record_queued)
        # Team mode: the replicas on the same database hear each other's changes and share
        # the work (on SQLite a Solo team: nothing shared, nothing added to the hot path).
        self.team = Team(self.db, self.bus, coordination.for_database(self.db))
        if self.team.shared:
            self.mailbox.relays.append(self.team.relay)
            self.bus.on(self._heard)
            self.team.on_changed(INBOX_RULES, self.reload_inbox_rules)
        self.mailbox.inbox_rules = InboxRules(parse_all(settings.inbox_rule))
        self.smtp_stats = SmtpStats()
        # The certificate STARTTLS/SMTPS serve (None: no TLS). Loaded now, so a bad file stops
        # create_app with a one-line ValueError before anything listens.
        self.tls_certificate: Path | None = None
        tls_context = self._tls_context()
        self.smtp_handler = SandboxHandler(
            self.mailbox,
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
        self.retention_checks = 0  # retention loop turns so far
        self.ready = False  # started and serving (``/readyz``)
        self.running = False  # started: stop() has work to do
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop it runs on, once started
        self._tasks: list[asyncio.Task[None]] = []
        self._pruned_at_count = -1
        self._remote_arrivals = 0  # team mode: mail the other replicas accepted (heard of)

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Bind, open, start; a failure the user can fix raises :class:`StartupError`.

        The SMTP ports are bound first (serving only once the database is open), so a port in
        use fails before the database is touched. Idempotent: ``mailsandbox serve`` starts
        the sandbox before uvicorn runs the app's lifespan, which calls this again.
        """
        if self.running:
            return
        self.loop = asyncio.get_running_loop()
        try:
            await self._listen()
            await asyncio.to_thread(self.db.open)
            await asyncio.to_thread(self.mailbox.index.start, self.loop)
            await self.team.start()
            await self.reload_inbox_rules()
            for listener in self.listeners:
                await listener.server.start_serving()
            self.spawn(self._retention_loop())
            self.running = True
            for callback in self.on_startup:
                await callback()
        except BaseException:
            await self.stop()
            raise
        self.ready = True

    async def _listen(self) -> None:
        addresses: list[tuple[tuple[str, int], str, str, bool]] = [
            (self.settings.smtp_address, "SMTP", "--smtp", False)
        ]
        if self.settings.smtps_address is not None:
            addresses.append((self.settings.smtps_address, "SMTPS", "--smtps", True))
        for (host, port), service, flag, implicit_tls in addresses:
            try:
                listener = await listen(
                    self.smtp_handler, host, port, implicit_tls=implicit_tls, start_serving=False
                )
            except OSError as exc:
                raise startup.bind_error(service, flag, host, port, exc) from None
            self.listeners.append(listener)

    def begin_shutdown(self) -> None:
        """Shutdown has begun: long polls answer 503 and live streams end (see ``bus.close``),
        so open browser tabs and pending waits do not hold the process."""
        self.bus.close()

    async def stop(self) -> None:
        """Release everything :meth:`start` acquired (also after a start that failed halfway);
        idempotent."""
        self.ready = False
        self.begin_shutdown()
        if self.running:
            self.running = False
            for callback in reversed(self.on_shutdown):
                try:
                    await callback()
                except Exception:
                    log.exception("shutdown callback failed")
        listeners, self.listeners = self.listeners, []
        for listener in listeners:
            listener.server.close()
        for listener in listeners:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.server.wait_closed(), 2)
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(tasks)
        await self.team.stop()  # (its lead and claims pass to the other replicas)
        await asyncio.to_thread(self.db.close)
        await asyncio.to_thread(self.mailbox.index.stop)  # after the writer's last commit

    async def inbox_rules_changed(self) -> None:
        """The stored inbox rules changed here: in force here, and on the other replicas."""
        await self.reload_inbox_rules()
        self.team.changed(INBOX_RULES)

    async def reload_inbox_rules(self) -> None:
        """Put the rules in force: ``--inbox-rule`` ones, then the stored ones."""
        stored = await self.db.read(inbox_rule_store.list_rules)
        flags = parse_all(self.settings.inbox_rule)
        self.mailbox.inbox_rules = InboxRules([*flags, *stored])

    def spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        """Run a background task for the life of the sandbox (cancelled at stop)."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.append(task)
        task.add_done_callback(_log_failure)
        return task

    def _tls_context(self) -> ssl.SSLContext | None:
        """TLS only when asked for: the given pair, or the self-signed one beside the db."""
        from mailsandbox.smtp import tls  # cryptography's x509: only when TLS is set up

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
            self.retention_checks += 1  # (lets a test know a check has run)
            if self.settings.max_messages <= 0 and max_age is None:
                continue
            # One replica prunes (the lead: another takes over when it dies), counting the
            # mail the others accepted too.
            if not await self.team.lead():
                continue
            accepted = self.mailbox.accepted + self._remote_arrivals
            if accepted == self._pruned_at_count and max_age is None:
                continue
            try:
                await self.prune_now(max_age)
            except Exception:  # (a failed pass must not end retention: the next one retries)
                log.exception("retention: pruning failed; retrying in %g s", PRUNE_INTERVAL)
                continue
            self._pruned_at_count = accepted

    def _heard(self, event: bus.BusEvent) -> None:
        """Team mode: another replica accepted mail (or this one may have missed some)."""
        if event.remote and event.type in (bus.NEW, bus.PRUNE):
            self._remote_arrivals += 1

    async def prune_now(self, max_age: float | None = None) -> list[str]:
        min_created = time.time() - max_age if max_age is not None else None
        return await self.mailbox.prune(self.settings.max_messages, min_created)


def _log_failure(task: asyncio.Task[None]) -> None:
    """A background task that ends with an error says so (else it would stop in silence)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())
