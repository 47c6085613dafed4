"""Resend's ``Idempotency-Key`` for ``POST /emails`` and ``/emails/batch``.

The first request with a key is served and its answer kept for 24 hours; the same key with
the same request again gets that answer back (nothing is sent twice), with another request
body it is 409 ``invalid_idempotent_request``, and while the first is still being served 409
``concurrent_idempotent_requests``. A key must have 1 to 256 characters (400
``invalid_idempotency_key``). Answers are kept in a table, so a restart forgets none.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from mailsandbox.emulators.resend.errors import ResendError
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.sql import Connection, Row

HEADER = "idempotency-key"
KEEP = 24 * 3600
EXTENSION = "resend.idempotency"


@dataclass
class Replay:
    """What the first request with the key was answered."""

    status: int
    body: str


def fingerprint(path: str, body: bytes) -> str:
    return hashlib.sha256(path.encode() + b"\n" + body).hexdigest()


def _find(conn: Connection, key: str) -> Row | None:
    row: Row | None = conn.execute(
        "SELECT * FROM resend_idempotency WHERE key = ? AND created > ?",
        (key, time.time() - KEEP),
    ).fetchone()
    return row


def _save(conn: Connection, key: str, print_: str, status: int, body: str) -> None:
    conn.execute("DELETE FROM resend_idempotency WHERE created <= ?", (time.time() - KEEP,))
    conn.execute(
        "INSERT INTO resend_idempotency (key, fingerprint, status, body, created)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
        " fingerprint = excluded.fingerprint, status = excluded.status, body = excluded.body,"
        " created = excluded.created",
        (key, print_, status, body, time.time()),
    )


class Keys:
    """The keys being served now (in memory) and the answers kept (in the table)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.in_flight: set[str] = set()

    @asynccontextmanager
    async def guard(self, key: str | None, print_: str) -> AsyncIterator[Slot]:
        """``async with keys.guard(key, fingerprint) as slot``: ``slot.replay`` is the kept
        answer (serve it), else serve the request and ``slot.keep(status, body)``."""
        if key is None:
            yield Slot(self, None, print_)
            return
        if not 1 <= len(key) <= 256:
            raise ResendError(
                400, "invalid_idempotency_key", "The key must be between 1-256 chars."
            )
        if key in self.in_flight:
            raise ResendError(
                409,
                "concurrent_idempotent_requests",
                "Same idempotency key used while original request is still in progress.",
            )
        self.in_flight.add(key)
        try:
            row = await self.sandbox.db.read(lambda conn: _find(conn, key))
            slot = Slot(self, key, print_)
            if row is not None:
                if row["fingerprint"] != print_:
                    raise ResendError(
                        409,
                        "invalid_idempotent_request",
                        "Same idempotency key used with a different request payload.",
                    )
                slot.replay = Replay(row["status"], row["body"])
            yield slot
        finally:
            self.in_flight.discard(key)


@dataclass
class Slot:
    keys: Keys
    key: str | None
    fingerprint: str
    replay: Replay | None = None

    async def keep(self, status: int, body: str) -> None:
        key = self.key
        if key is not None:
            await self.keys.sandbox.db.write(
                lambda conn: _save(conn, key, self.fingerprint, status, body)
            )
