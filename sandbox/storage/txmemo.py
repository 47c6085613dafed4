"""Values read once per write transaction.

Every message a group commit writes asks the same settings of the database: which webhook
endpoints exist (inbound routing asks for SendGrid's parse settings and Mailgun's routes, the
new-message webhook for its URLs), whether any suppression list holds anything (the event
engine asks for every recipient). Read once per transaction instead of once per hook, message
and recipient, they cost one statement per group commit: on PostgreSQL each statement waited
for is a round trip, and these were 14 % and 18 % of a replica's writer thread
(bench/README.md). The memo lives from BEGIN to the end of the transaction
(:func:`mailsandbox.storage.db.transaction` opens it): its messages see the settings as they
were at the first read (on PostgreSQL, a change another replica commits meanwhile counts from
the next transaction, a few milliseconds later). A write to the memoized table drops it
(:func:`forget`). Outside a write transaction :func:`once` just reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from mailsandbox.storage.sql import Connection

T = TypeVar("T")

# id(connection) -> the memo of the transaction it is in (a connection runs one transaction at
# a time, on one thread; sqlite3 connections take no weak references, hence the id)
_memos: dict[int, dict[str, Any]] = {}


@contextlib.contextmanager
def scope(conn: Connection) -> Iterator[None]:
    """Memoize for the transaction ``conn`` runs inside this block."""
    _memos[id(conn)] = {}
    try:
        yield
    finally:
        _memos.pop(id(conn), None)


def active(conn: Connection) -> bool:
    """Whether ``conn`` is in a write transaction that memoizes (a :func:`scope`)."""
    return id(conn) in _memos


def once(conn: Connection, key: str, read: Callable[[], T]) -> T:
    """``read()``, or what it returned earlier in this transaction of ``conn``."""
    memo = _memos.get(id(conn))
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    value: T = memo[key]
    return value


def forget(conn: Connection, key: str) -> None:
    """``key`` changed in this transaction: the next :func:`once` reads it again."""
    memo = _memos.get(id(conn))
    if memo is not None:
        memo.pop(key, None)
