"""The webhook dispatcher: POSTs due outbox rows, logs every attempt, retries on schedule.

Rows of a batching provider (SendGrid) that are due together for one endpoint go out as one
JSON array, after a short collection window; others go one per POST, with a ``Webhook-Id``
header (the row's id, the same on every re-post). Delivery is at least once; see
:meth:`Dispatcher._send` for how duplicates after a crash are kept rare. URL userinfo becomes an
``Authorization: Basic`` header. A 2xx marks rows delivered; the provider may stop on some
statuses (Mailgun 406); otherwise the row is retried after the next delay of
``--webhook-retry-schedule`` (the last delay repeats) until the provider's retry window ends.
Pending rows survive a restart: the loop simply finds them due again. A provider that builds
each request itself (inbound mail: a form made from the stored message, or a re-ingest instead
of a POST) implements :class:`CustomDelivery`; it gets one row at a time and :meth:`post`.

Team mode (replicas on one PostgreSQL database): every replica runs this loop on the same
outbox. Before sending, a replica *claims* the due rows (``Team.claim``: session advisory
locks keyed on the row's ``seq``), reads the claimed ones again (one another replica sent
between the first read and the claim is no longer pending) and releases them once the
outcome is committed. So each POST is made by one replica. A replica killed mid-delivery
loses its database session, and with it its claims: the others find the rows still pending
at their next look (every ``MAX_IDLE`` at most) and send them. A POST the dead replica made
whose answer it had not committed is sent again, exactly as after a restart on SQLite (at
most ``PER_URL`` per URL). The one other way to a duplicate: a replica whose coordination
connection (not the process) is cut loses its claims while its POSTs in flight go on, and
another replica may claim and post those rows meanwhile. Trimming old rows is housekeeping:
the lead replica's alone.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit, urlunsplit

from mailsandbox.events import outbox, providers
from mailsandbox.events.generic import GenericProvider
from mailsandbox.events.outbox import AttemptResult, OutboxItem
from mailsandbox.runtime import Sandbox, parse_duration

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
COLLECT_WINDOW = 0.25  # seconds a batching provider waits for more events
MAX_BATCH = 500
MAX_IDLE = 1.0
CONCURRENCY = 16  # POSTs in flight in all
# POSTs in flight to one URL. Each one the receiver got but whose answer is not recorded yet
# is sent again after a crash (kill -9): with 16 per URL a crash mid-burst re-sent 5-11; the
# limit bounds that, and a local receiver still takes hundreds of POSTs a second.
PER_URL = 2
# Every POST of one event (a retry, a replay, a re-send after a restart) carries the same id,
# its outbox row's, for receivers to drop duplicates (the Standard Webhooks header name).
DELIVERY_ID_HEADER = "Webhook-Id"
TIMEOUT = 10.0
TRIM_INTERVAL = 60.0
Poster = Callable[[str, bytes, dict[str, str]], Awaitable[AttemptResult]]


@runtime_checkable
class CustomDelivery(Protocol):
    """A provider that delivers an outbox row itself, with ``post(url, body, headers)``."""

    async def deliver(self, item: OutboxItem, post: Poster) -> AttemptResult: ...


def parse_schedule(text: str) -> list[float]:
    """``"1s,2s,5s,1m"`` → ``[1, 2, 5, 60]``."""
    delays = [parse_duration(part) for part in text.split(",") if part.strip()]
    if not delays:
        raise ValueError("empty retry schedule")
    return delays


def split_userinfo(url: str) -> tuple[str, dict[str, str]]:
    """Move ``user:pass@`` out of the URL into a Basic auth header."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, {}
    user, password = unquote(parts.username), unquote(parts.password or "")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, {"Authorization": f"Basic {token}"}


class Dispatcher:
    def __init__(self, sandbox: Sandbox, schedule: list[float], generic: GenericProvider) -> None:
        self.sandbox = sandbox
        self.schedule = schedule
        self.generic = generic
        self._wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._limit = asyncio.Semaphore(CONCURRENCY)
        self._per_url: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(PER_URL)
        )
        self._client: httpx.AsyncClient | None = None
        self._stopping = False
        self.attempts: dict[tuple[str, str], int] = {}  # (provider, result) -> POSTs, for /metrics

    def wake(self) -> None:
        self._wake.set()

    def _provider(self, name: str) -> providers.WebhookProvider:
        return self.generic if name == self.generic.name else providers.get(self.sandbox, name)

    async def run(self) -> None:
        trimmed_at = time.monotonic()
        try:
            while True:
                try:
                    await self._round()
                    if time.monotonic() - trimmed_at > TRIM_INTERVAL:
                        trimmed_at = time.monotonic()
                        if await self.sandbox.team.lead():
                            await self.sandbox.db.write(outbox.trim)
                except Exception:
                    log.exception("webhook dispatch round failed")
                    await asyncio.sleep(MAX_IDLE)
        finally:
            if self._client is not None:
                await self._client.aclose()

    def _http(self) -> httpx.AsyncClient:
        """The HTTP client, made at the first POST (importing httpx costs start-up time)."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        return self._client

    async def _round(self) -> None:
        items = await self._due()
        if any(self._provider(i.provider).batch and i.attempts == 0 for i in items):
            await asyncio.sleep(COLLECT_WINDOW)  # let the rest of the batch arrive
            items = await self._due()
        items = [] if self._stopping else await self._claim(items)
        for group in self._groups(items):
            self._in_flight.update(i.seq for i in group)
            task = asyncio.ensure_future(self._send(group))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        now = time.time()
        next_due = await self.sandbox.db.read(outbox.next_due)
        wait = MAX_IDLE if next_due is None or next_due <= now else min(next_due - now, MAX_IDLE)
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)

    async def _due(self) -> list[OutboxItem]:
        now, busy = time.time(), tuple(self._in_flight)
        return await self.sandbox.db.read(lambda c: outbox.due(c, now, 2000, busy))

    async def _claim(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """Team mode: the rows of ``items`` this replica claimed, as they stand now (alone
        on SQLite: all of them, with no extra work)."""
        team = self.sandbox.team
        if not team.shared or not items:
            return items
        claimed = await team.claim([i.seq for i in items])
        if not claimed:
            return []
        now = time.time()
        fresh = await self.sandbox.db.read(lambda c: outbox.still_due(c, claimed, now))
        done = set(claimed) - {i.seq for i in fresh}  # sent meanwhile by another replica
        await team.release(list(done))
        return fresh

    def _groups(self, items: Sequence[OutboxItem]) -> list[list[OutboxItem]]:
        keyed: dict[tuple[str, str, bool], list[OutboxItem]] = defaultdict(list)
        single: list[list[OutboxItem]] = []
        for item in items:
            if self._provider(item.provider).batch:
                keyed[(item.provider, item.url, item.signed)].append(item)
            else:
                single.append([item])
        batches = [
            g[i : i + MAX_BATCH] for g in keyed.values() for i in range(0, len(g), MAX_BATCH)
        ]
        return batches + single

    async def _send(self, items: list[OutboxItem]) -> None:
        """POST ``items`` and record the outcome (the attempt and the rows' new status, one
        commit). Delivery is at least once: a POST the receiver got whose answer was not yet
        recorded when the process died is sent again after the restart, with the same ids. To
        keep such duplicates rare, the answer is committed at the next turn of the event loop
        (not behind the writer thread's queue), and the concurrency slots are held until then:
        at most ``PER_URL`` POSTs to a URL are ever answered but unrecorded."""
        provider = self._provider(items[0].provider)
        try:
            async with self._per_url[items[0].url], self._limit:
                if isinstance(provider, CustomDelivery):
                    result = await provider.deliver(items[0], self.post)
                else:
                    body, headers = provider.request([i.payload for i in items], items[0].signed)
                    if len(items) == 1:  # a batch's events carry their own ids (sg_event_id)
                        headers = {**headers, DELIVERY_ID_HEADER: items[0].id}
                    result = await self.post(items[0].url, body, headers)
                status, next_attempt = self._verdict(provider, items, result)
                outcome = (items[0].provider, "retrying" if status == "pending" else status)
                self.attempts[outcome] = self.attempts.get(outcome, 0) + len(items)
                job = self.sandbox.db.schedule(
                    lambda c: outbox.record(
                        c, items, result, status=status, next_attempt=next_attempt
                    ),
                    inline=True,
                )
                assert job.waiter is not None
                await job.waiter
        except Exception:
            log.exception("webhook delivery failed")
        finally:
            try:  # released after the outcome's commit (see the module doc), before the rows
                # may be read as due again (a second claim by this session would stack)
                if self.sandbox.team.shared:
                    await self.sandbox.team.release([i.seq for i in items])
            finally:
                self._in_flight.difference_update(i.seq for i in items)
                self._wake.set()

    async def post(self, target: str, body: bytes, headers: dict[str, str]) -> AttemptResult:
        """POST ``body`` to ``target`` (its userinfo as Basic auth); the outcome, never raises."""
        import httpx

        url, auth = split_userinfo(target)
        headers = {"User-Agent": "mailsandbox-webhooks", **headers, **auth}
        started = time.perf_counter()
        try:
            response = await self._http().post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            return AttemptResult(0, elapsed, error=f"{type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        return AttemptResult(response.status_code, elapsed, response.text[: outbox.EXCERPT])

    def _verdict(
        self, provider: providers.WebhookProvider, items: list[OutboxItem], result: AttemptResult
    ) -> tuple[str, float]:
        now = time.time()
        if result.ok:
            return "delivered", now
        if result.final or provider.stop_on(result.status_code):
            return "stopped", now
        if now - min(i.created for i in items) > provider.retry_window:
            return "failed", now
        attempt = max(i.attempts for i in items)
        delay = self.schedule[min(attempt, len(self.schedule) - 1)]
        return "pending", now + delay

    async def drain(self, timeout: float = 5.0) -> None:
        """At shutdown: let POSTs already on the wire finish and be recorded."""
        self._stopping = True  # start nothing new: a cut-off POST would be sent twice
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
