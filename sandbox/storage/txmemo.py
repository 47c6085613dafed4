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

On PostgreSQL the database sends the reads it is given as :class:`ReadAhead` right after each
BEGIN, without waiting for them (the writer's transactions are pipelined, see
:func:`~mailsandbox.storage.sql.pipelined`): their answers come back with whatever the
transaction waits for first, instead of costing a round trip each when first asked.

Two more ways to spare a pipelined transaction a wait, for values only read after the commit
or handed out one at a time:

* :func:`after_commit`: a statement whose answer nobody in the transaction needs (the new
  ``seq`` of an event, kept for later) is read once the transaction has committed, when every
  answer is in; on SQLite, or outside a write transaction, at once.
* :func:`take`: one value of a list read ahead (the message seqs a batch reserves with its
  BEGIN, see :func:`mailsandbox.storage.messages.reserve_seqs`), or None when none is left.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from mailsandbox.storage.sql import Connection, Cursor

T = TypeVar("T")
log = logging.getLogger(__name__)

# id(connection) -> the memo of the transaction it is in (a connection runs one transaction at
# a time, on one thread; sqlite3 connections take no weak references, hence the id)
_memos: dict[int, dict[str, Any]] = {}


@dataclass(frozen=True)
class ReadAhead:
    """A memoized read a write transaction may send before it is asked for: ``send`` runs its
    statement, ``finish`` makes the memo's value of its cursor (``finish(send(conn))`` is
    the plain read)."""

    key: str
    send: Callable[[Connection], Cursor]
    finish: Callable[[Cursor], Any]

    def read(self, conn: Connection) -> Any:
        return self.finish(self.send(conn))


@dataclass
class _Sent:
    """A :class:`ReadAhead` sent, its answer not read yet."""

    cursor: Cursor
    finish: Callable[[Cursor], Any]


_MISSING = object()


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


def send_ahead(conn: Connection, reads: Sequence[ReadAhead]) -> None:
    """Send ``reads`` now, in this transaction of ``conn``; :func:`once` takes their answers."""
    memo = _memos[id(conn)]
    for read in reads:
        memo[read.key] = _Sent(read.send(conn), read.finish)


def once(conn: Connection, key: str, read: Callable[[], T]) -> T:
    """``read()``, or what it returned earlier in this transaction of ``conn`` (or the answer
    of the same read sent ahead, see :func:`send_ahead`)."""
    memo = _memos.get(id(conn))
    if memo is None:
        return read()
    value = memo.get(key, _MISSING)
    if value is _MISSING:
        value = memo[key] = read()
    elif isinstance(value, _Sent):
        value = memo[key] = value.finish(value.cursor)
    found: T = value
    return found


def take(conn: Connection, key: str) -> Any:
    """The next value of the list read ahead as ``key`` in this transaction of ``conn``, or
    None (nothing was read ahead as ``key``, or every value was taken)."""
    memo = _memos.get(id(conn))
    values = None if memo is None else memo.get(key)
    if values is None:
        return None
    if isinstance(values, _Sent):
        values = memo[key] = values.finish(values.cursor)  # type: ignore[index]
    return values.pop(0) if values else None


_AFTER_COMMIT = "txmemo.after_commit"


def after_commit(conn: Connection, cursor: Cursor, finish: Callable[[Cursor], None]) -> None:
    """``finish(cursor)`` once this transaction of ``conn`` has committed (see the module
    doc), or at once where reading costs no round trip: outside a write transaction, and on a
    connection that is not pipelined (SQLite)."""
    memo = _memos.get(id(conn))
    if memo is None or getattr(conn, "pipelined", None) is None:
        finish(cursor)
        return
    memo.setdefault(_AFTER_COMMIT, []).append((cursor, finish))


def committed(conn: Connection) -> None:
    """The transaction of ``conn`` committed: read what :func:`after_commit` kept. (A
    ``finish`` that raises is logged: raising would make its writer run a committed batch
    again.)"""
    memo = _memos.get(id(conn))
    for cursor, finish in [] if memo is None else memo.pop(_AFTER_COMMIT, []):
        try:
            finish(cursor)
        except Exception:
            log.exception("reading an answer after the commit failed")


def forget(conn: Connection, key: str) -> None:
    """``key`` changed in this transaction: the next :func:`once` reads it again."""
    memo = _memos.get(id(conn))
    if memo is not None:
        memo.pop(key, None)
