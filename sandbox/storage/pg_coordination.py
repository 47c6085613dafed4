"""Coordination of replicas on PostgreSQL: LISTEN/NOTIFY and session advisory locks.

Two connections of its own, on the event loop (psycopg's asyncio connections):

* the *listener* LISTENs on ``mailsandbox_changes`` and hands what other replicas sent to the
  receiver in batches (all that arrived meanwhile, in order). When it loses the server it
  reconnects and delivers a ``resync`` of its own, since it may have missed changes
  meanwhile (live pages reload, shared state is read again);
* the *locker* sends (one ``pg_notify`` statement per batch of queued payloads, in order) and
  holds session advisory locks: the housekeeping lead and the claims on outbox rows. A
  session lock lasts until it is released or the session ends: a replica killed with kill
  -9 closes its socket, the server ends its session at once, and its lead and claims pass
  to the others.

A payload larger than NOTIFY's 8000 bytes is never sent: :mod:`mailsandbox.team` keeps them
small (ids, not summaries).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import psycopg

from mailsandbox import ids
from mailsandbox.storage.coordination import RESYNC, Payload, Receiver
from mailsandbox.storage.postgres import (
    APPLICATION_NAME,
    CONNECT_TIMEOUT,
    LOCK_SPACE,
    describe_error,
)
from mailsandbox.tasks import cancel_and_wait

log = logging.getLogger(__name__)

CHANNEL = "mailsandbox_changes"
LEAD_LOCK = 2  # (LOCK_SPACE, 2): the housekeeping lead
CLAIM_SPACE = LOCK_SPACE + 1  # (CLAIM_SPACE, seq mod 2^31): an outbox row being sent
# A claim's lock key is the key modulo 2^31 (the two-int form of advisory locks): two rows
# 2^31 apart share a lock, which at worst delays one of them to the next round.
CLAIM_KEY = "mod(k, 2147483648)::int"
RETRY_FIRST, RETRY_MAX = 0.2, 5.0  # pauses between reconnection attempts (doubling)
MAX_PAYLOAD = 7900  # NOTIFY's limit is 8000 bytes


class PgCoordination:
    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.replica = ids.new_id()  # to recognise our own notifications
        self._outgoing: list[str] = []
        self._pending = asyncio.Event()
        self._incoming: asyncio.Queue[Payload] = asyncio.Queue()
        self._locker: psycopg.AsyncConnection[Any] | None = None
        self._locker_mutex = asyncio.Lock()
        self._leading = False
        self._tasks: list[asyncio.Task[None]] = []
        self._receive: Receiver | None = None
        self.listening = asyncio.Event()  # set while LISTEN is in place

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self.url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            application_name=APPLICATION_NAME,
        )

    async def start(self, receive: Receiver) -> None:
        self._receive = receive
        self._locker = await self._connect()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name="team-listen"),
            loop.create_task(self._deliver(), name="team-deliver"),
            loop.create_task(self._send(), name="team-send"),
        ]
        # Changes published from now on reach us: wait (briefly) for the LISTEN.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), CONNECT_TIMEOUT)

    async def stop(self) -> None:
        await self._flush()
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(tasks)
        if self._locker is not None:
            with contextlib.suppress(Exception):
                await self._locker.close()  # (its locks end with the session)
            self._locker = None

    # --- the change feed ---------------------------------------------------------------
    def send(self, payload: Payload) -> None:
        text = json.dumps({"r": self.replica, **payload}, separators=(",", ":"))
        if len(text.encode()) > MAX_PAYLOAD:  # (the feed keeps payloads small: never here)
            log.warning("team notification too large, sending a reload instead")
            text = json.dumps({"r": self.replica, "t": RESYNC})
        self._outgoing.append(text)
        self._pending.set()

    async def _send(self) -> None:
        while True:
            await self._pending.wait()
            await self._flush()

    async def _flush(self) -> None:
        self._pending.clear()
        batch, self._outgoing = self._outgoing, []
        if not batch:
            return
        try:
            async with self._locker_mutex:
                conn = await self._locker_connection()
                await conn.execute(
                    "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) WITH ORDINALITY AS n(p, i)"
                    " ORDER BY i",
                    (CHANNEL, batch),
                )
        except psycopg.Error as exc:  # the others miss these live changes (not the data)
            log.warning("could not notify the other replicas: %s", describe_error(exc))

    async def _listen(self) -> None:
        delay = RETRY_FIRST
        first = True
        while True:
            try:
                conn = await self._connect()
                try:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if not first:  # changes may have passed us by meanwhile
                        self._incoming.put_nowait({"t": RESYNC})
                    first, delay = False, RETRY_FIRST
                    async for notify in conn.notifies():
                        payload = json.loads(notify.payload)
                        if payload.pop("r", None) != self.replica:
                            self._incoming.put_nowait(payload)
                finally:
                    self.listening.clear()
                    with contextlib.suppress(Exception):
                        await conn.close()
            except (psycopg.Error, OSError) as exc:
                log.warning("team listener: %s; reconnecting", describe_error(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    async def _deliver(self) -> None:
        while True:
            batch = [await self._incoming.get()]
            while not self._incoming.empty():
                batch.append(self._incoming.get_nowait())
            if self._receive is not None:
                try:
                    await self._receive(batch)
                except Exception:
                    log.exception("could not apply changes from another replica")

    # --- locks ---------------------------------------------------------------------------
    async def _locker_connection(self) -> psycopg.AsyncConnection[Any]:
        """The locker (under ``_locker_mutex``), reconnected if it dropped: its locks went
        with the old session (the lead is lost, claims are void)."""
        conn = self._locker
        if conn is None or conn.closed or conn.broken:
            self._leading = False
            conn = self._locker = await self._connect()
        return conn

    async def lead(self) -> bool:
        """Whether this replica leads the housekeeping (taking the lead if nobody has it)."""
        async with self._locker_mutex:
            try:
                conn = await self._locker_connection()
                if self._leading:  # (a query finds out whether the session, and the lock, lives)
                    await conn.execute("SELECT 1")
                else:
                    cursor = await conn.execute(
                        "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_SPACE, LEAD_LOCK)
                    )
                    row = await cursor.fetchone()
                    self._leading = bool(row and row[0])
            except psycopg.Error as exc:
                log.warning("team lead: %s", describe_error(exc))
                self._leading = False
            return self._leading

    async def claim(self, keys: Sequence[int]) -> list[int]:
        """The ``keys`` no other replica has claimed, now claimed by this one."""
        if not keys:
            return []
        async with self._locker_mutex:
            try:
                conn = await self._locker_connection()
                cursor = await conn.execute(
                    "SELECT k FROM unnest(%s::bigint[]) AS k"
                    f" WHERE pg_try_advisory_lock(%s, {CLAIM_KEY})",
                    (list(keys), CLAIM_SPACE),
                )
                return [int(row[0]) for row in await cursor.fetchall()]
            except psycopg.Error as exc:
                log.warning("team claim: %s", describe_error(exc))
                return []

    async def release(self, keys: Sequence[int]) -> None:
        if not keys:
            return
        async with self._locker_mutex:
            try:
                conn = await self._locker_connection()
                await conn.execute(
                    f"SELECT pg_advisory_unlock(%s, {CLAIM_KEY}) FROM unnest(%s::bigint[]) AS k",
                    (CLAIM_SPACE, list(keys)),
                )
            except psycopg.Error as exc:  # a lost session released them already
                log.warning("team release: %s", describe_error(exc))
