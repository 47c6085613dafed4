"""What replicas sharing one database agree on: who leads, who sends what, what changed.

A :class:`Coordination` gives the rest of the sandbox four things (see docs/team.md):

* ``send`` / ``start(receive)``: a message to every other replica (PostgreSQL's
  LISTEN/NOTIFY), for the change feed (:mod:`mailsandbox.team`);
* ``lead()``: whether this replica is the one that runs the housekeeping (retention, outbox
  trimming) — one at a time, another takes over when it dies;
* ``claim(keys)`` / ``release(keys)``: exclusive, crash-safe claims (a webhook outbox row is
  sent by one replica; a replica that dies leaves its claims to the others at once).

On SQLite one process owns the file: :class:`Solo` leads, every claim succeeds, and there is
nobody to tell. PostgreSQL's implementation is :mod:`mailsandbox.storage.pg_coordination`,
imported only in team mode.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from mailsandbox.storage.db import Database

Payload = dict[str, Any]
# A payload a coordination delivers of its own when it may have missed some (a lost
# connection): the receiver reloads whatever it keeps of the others' changes.
RESYNC = "resync"
Receiver = Callable[[list[Payload]], Awaitable[None]]


class Coordination(Protocol):
    shared: bool  # other processes use the same database

    async def start(self, receive: Receiver) -> None: ...

    async def stop(self) -> None: ...

    def send(self, payload: Payload) -> None: ...

    async def lead(self) -> bool: ...

    async def claim(self, keys: Sequence[int]) -> list[int]: ...

    async def release(self, keys: Sequence[int]) -> None: ...


class Solo:
    """One process, one database file: it leads, its claims always hold, nobody listens."""

    shared = False

    async def start(self, receive: Receiver) -> None:
        return None

    async def stop(self) -> None:
        return None

    def send(self, payload: Payload) -> None:
        return None

    async def lead(self) -> bool:
        return True

    async def claim(self, keys: Sequence[int]) -> list[int]:
        return list(keys)

    async def release(self, keys: Sequence[int]) -> None:
        return None


def for_database(db: Database) -> Coordination:
    """How the processes using ``db`` coordinate: not at all on SQLite."""
    if not db.backend.shared:
        return Solo()
    from mailsandbox.storage import pg_coordination, postgres  # (psycopg: team mode only)

    backend = db.backend
    assert isinstance(backend, postgres.PostgresBackend)
    return pg_coordination.PgCoordination(backend.url)
