"""Reading stored messages for display: each parsed once, off the event loop, within bounds.

Every view of a message (its JSON, ``/view``, the UI page, links and codes, the emulators'
stored-message routes) needs its parse, whose cost grows with the message: a 50 MB message
takes about a second and a few hundred MB. :class:`MessageReader` makes it safe for many
requests to ask for at once:

- parses and part decoding run on the database's reader threads, never on the event loop;
- requests for the same message share one parse (single flight), and the result stays in a
  small cache, least recently used out first, bounded by the size of what it holds
  (``CACHE_BYTES``);
- at most ``HEAVY_SLOTS`` jobs on big messages (over ``HEAVY_BYTES``: a parse, a part's
  decoding) run at once; the others wait for a slot;
- the raw source is streamed from the database in chunks (:meth:`MessageReader.raw_chunks`),
  never loaded whole, and its start (header block, the UI's raw preview) is read on its own
  (stored compressed, it is inflated as it is read: :class:`RawStream`);
- after a job on a big message, freed memory is handed back to the operating system
  (:func:`release_memory`), which glibc would otherwise keep for the process.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import sqlite3
import sys
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from mailsandbox import mime
from mailsandbox.storage import messages, rawcodec
from mailsandbox.storage.db import Database
from mailsandbox.storage.sql import Connection, is_postgresql

T = TypeVar("T")

CACHE_BYTES = 64 * 1024 * 1024  # parsed messages kept, by the size of their bodies
HEAVY_BYTES = 1024 * 1024  # a message bigger than this is parsed under a heavy slot
HEAVY_SLOTS = 2
CHUNK_BYTES = 1024 * 1024  # raw source streamed this much at a time
HEAD_LIMIT = 1024 * 1024  # a header block longer than this is cut (no blank line found)
RAW_SLICE = "SELECT substr(raw, ?, ?) FROM message_raw WHERE seq = ?"  # (PostgreSQL)
RAW_CODEC = "SELECT codec FROM message_raw WHERE seq = ?"
OFF_LOOP_CHARS = 64 * 1024  # markup rewritten on a worker thread above this (see compute)
_SEPARATOR = b"\r\n\r\n"


@dataclass
class Opened:
    """What reading a message needs from its raw source: its parse and its header block."""

    parsed: mime.ParsedMessage
    head: bytes  # the top-level header block as stored, without the blank line
    size: int = 0  # bytes the cache counts for it

    @functools.cached_property
    def headers(self) -> list[tuple[str, str]]:
        """The top-level header fields in order, values decoded (RFC 2047, 8-bit)."""
        try:
            items = mime.load(self.head + _SEPARATOR).items()
        except Exception:  # a header block the email package cannot read
            return []
        return [(name, mime.decode_header_value(value)) for name, value in items]

    def header(self, name: str) -> str:
        """The first value of a top-level header field, decoded ("" if absent)."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), "")


@dataclass
class PartBytes:
    """One leaf part of a message, decoded."""

    content_type: str
    data: bytes


async def compute(size: int, fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)``, CPU work on an input of ``size``: on a worker thread when it is big
    (over ``OFF_LOOP_CHARS``), so the event loop keeps answering meanwhile, then the memory
    it freed is handed back (:func:`release_memory`)."""
    if size <= OFF_LOOP_CHARS:
        return fn(*args)

    def work() -> T:
        try:
            return fn(*args)
        finally:
            release_memory()

    return await asyncio.to_thread(work)


def _head(raw: bytes) -> bytes:
    end = raw.find(_SEPARATOR, 0, HEAD_LIMIT)
    return raw[:end] if end >= 0 else raw[:HEAD_LIMIT]


def open_stored(conn: Connection, seq: int, fallback_subject: str = "") -> Opened:
    """Parse a stored message for reading. Its parts' sizes and checksums come from
    ``message_parts`` (written at ingest), so attachments are not decoded again. Mail that
    cannot be parsed (stored raw, with its error) opens with no bodies, its subject from the
    summary."""
    raw = messages.get_raw_at(conn, seq) or b""
    try:
        parsed = mime.parse_message(raw, digests=False)
    except Exception:
        parsed = mime.ParsedMessage(subject=fallback_subject)
    # The search text is the indexer's business: not kept in the cache.
    parsed = replace(parsed, search_text="", parts=messages.get_parts(conn, seq))
    opened = Opened(parsed, _head(raw))
    bodies = sum(sys.getsizeof(text) for text in (parsed.text, parsed.html, parsed.snippet))
    opened.size = bodies + len(opened.head) + 4096
    return opened


def read_prefix(conn: Connection, seq: int, limit: int) -> bytes:
    """The first ``limit`` bytes of a message's raw source (without reading the rest)."""
    return RawStream(seq).read(conn, limit)


def read_stored(conn: Connection, seq: int, offset: int, size: int) -> bytes:
    """``size`` stored bytes of a message from ``offset`` ("" once deleted meanwhile).

    SQLite reads them through its incremental blob API; PostgreSQL keeps raw messages out of
    line and uncompressed by itself (``STORAGE EXTERNAL``: they are compressed already, see
    :mod:`mailsandbox.storage.rawcodec`), so ``substr`` fetches only those bytes."""
    if is_postgresql(conn):
        row = conn.execute(RAW_SLICE, (offset + 1, size, seq)).fetchone()
        return bytes(row[0]) if row else b""
    assert isinstance(conn, sqlite3.Connection)
    try:
        with conn.blobopen("message_raw", "raw", seq, readonly=True) as blob:
            blob.seek(offset)
            return blob.read(size)
    except sqlite3.OperationalError:  # deleted meanwhile: the stream ends
        return b""


class RawStream:
    """A message's raw source read in order, a piece per :meth:`read` (each may run on a
    different reader connection): its stored bytes are fetched a slice at a time and
    unpacked as they come (:class:`~mailsandbox.storage.rawcodec.Unpacker`)."""

    def __init__(self, seq: int) -> None:
        self.seq = seq
        self._unpacker: rawcodec.Unpacker | None = None

    def read(self, conn: Connection, size: int = CHUNK_BYTES) -> bytes:
        """Up to ``size`` more bytes of the raw source (b"" at its end or once deleted)."""
        if self._unpacker is None:
            row = conn.execute(RAW_CODEC, (self.seq,)).fetchone()
            if row is None:
                return b""
            self._unpacker = rawcodec.Unpacker(row[0])
        return self._unpacker.read(
            lambda offset, count: read_stored(conn, self.seq, offset, count), size
        )


def _load_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_malloc_trim = _load_malloc_trim()


def release_memory(conn: Connection | None = None) -> None:
    """Return freed heap memory to the OS (call once big objects are gone).

    Python hands big objects to malloc, and glibc keeps freed heap pages for later use: eight
    reads of a 50 MB message left the process 250 MB bigger for good. ``malloc_trim`` gives
    them back (a no-op without glibc). With ``conn``, that connection's page cache goes too:
    the pages of a big raw message just read are no use to the next query.
    """
    if conn is not None and not is_postgresql(conn):
        conn.execute("PRAGMA shrink_memory")
    if _malloc_trim is not None:
        _malloc_trim(0)


@dataclass
class _Cache:
    budget: int
    entries: OrderedDict[str, Opened] = field(default_factory=OrderedDict)
    used: int = 0

    def get(self, key: str) -> Opened | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: str, opened: Opened) -> None:
        if opened.size > self.budget // 4:
            return  # one huge body would push out everything else: not kept
        self.entries[key] = opened
        self.used += opened.size
        while self.used > self.budget:
            _, old = self.entries.popitem(last=False)
            self.used -= old.size


class MessageReader:
    """Parsed messages for the read routes (see the module docstring)."""

    def __init__(self, db: Database, cache_bytes: int = CACHE_BYTES) -> None:
        self.db = db
        self._cache = _Cache(cache_bytes)
        self._pending: dict[object, asyncio.Task[Any]] = {}
        self._heavy = asyncio.Semaphore(HEAVY_SLOTS)

    async def run(self, job: Callable[[Connection], T], size: int | None = None) -> T:
        """``job`` on a reader thread; for a big message (``size`` bytes, None: unknown, so
        maybe big) under a heavy slot, then the memory it freed is handed back."""
        if size is not None and size <= HEAVY_BYTES:
            return await self.db.read(job)

        def heavy(conn: Connection) -> T:
            try:
                return job(conn)  # its big locals are gone once it returns...
            finally:
                release_memory(conn)  # ...so their pages can go back

        async with self._heavy:
            return await self.db.read(heavy)

    async def _shared(self, key: object, make: Callable[[], Awaitable[T]]) -> T:
        """``make()``, run once for every caller asking for ``key`` meanwhile. It runs as a
        task of its own: a caller that goes away (a client hanging up) cancels only its wait."""
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._pending[key] = task
            task.add_done_callback(lambda done: self._settled(key, done))
        result: T = await asyncio.shield(task)
        return result

    def _settled(self, key: object, task: asyncio.Task[Any]) -> None:
        self._pending.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved: no warning when every caller went away

    async def open(self, message_id: str, seq: int, size: int, subject: str = "") -> Opened:
        """The parse of message ``message_id`` (stored at ``seq``, ``size`` bytes)."""
        cached = self._cache.get(message_id)
        if cached is not None:
            return cached

        async def parse() -> Opened:
            opened = await self.run(lambda conn: open_stored(conn, seq, subject), size)
            self._cache.put(message_id, opened)
            return opened

        return await self._shared(("open", message_id), parse)

    async def part(self, message_id: str, seq: int, size: int, part_id: str) -> PartBytes | None:
        """Leaf part ``part_id`` of a message, decoded; None if there is no such part.
        Callers asking for the same part at the same time share one decoding."""

        def decode(conn: Connection) -> PartBytes | None:
            raw = messages.get_raw_at(conn, seq)
            if raw is None:
                return None
            tree = mime.load_tree(raw)
            del raw  # the tree holds its own copy: let it go before decoding
            node = mime.find_part(tree, part_id)
            if node is None:
                return None
            return PartBytes(node.get_content_type(), mime.decode_payload(node))

        return await self._shared(("part", message_id, part_id), lambda: self.run(decode, size))

    async def raw(self, seq: int, size: int) -> bytes:
        """The whole raw source, for a check that reads every byte (routes that serve the
        source stream it with :meth:`raw_chunks` instead); b"" once deleted."""
        return await self.run(lambda conn: messages.get_raw_at(conn, seq) or b"", size)

    async def prefix(self, seq: int, limit: int) -> bytes:
        """The first ``limit`` bytes of the raw source."""
        return await self.db.read(lambda conn: read_prefix(conn, seq, limit))

    async def head(self, seq: int) -> bytes:
        """The top-level header block (up to ``HEAD_LIMIT``), without parsing the message."""
        start = await self.prefix(seq, 64 * 1024)
        if start.find(_SEPARATOR) >= 0 or len(start) < 64 * 1024:
            return _head(start)
        return _head(await self.prefix(seq, HEAD_LIMIT))

    @staticmethod
    async def chunks_of(data: bytes) -> AsyncIterator[bytes]:
        """A response body of ``data``, ``CHUNK_BYTES`` at a time: the server writes each one
        before asking for the next, instead of buffering the whole body per client."""
        view = memoryview(data)
        for offset in range(0, len(data), CHUNK_BYTES):
            yield bytes(view[offset : offset + CHUNK_BYTES])

    async def raw_chunks(self, seq: int, size: int) -> AsyncIterator[bytes]:
        """The raw source, ``CHUNK_BYTES`` at a time (ends early if the message is deleted)."""
        stream = RawStream(seq)

        def read(conn: Connection) -> bytes:
            chunk = stream.read(conn)
            if size > HEAVY_BYTES and not is_postgresql(conn):
                conn.execute("PRAGMA shrink_memory")  # (see release_memory)
            return chunk

        for _ in range(0, size, CHUNK_BYTES):
            chunk = await self.db.read(read)
            if not chunk:
                return
            yield chunk
        if size > HEAVY_BYTES:
            await asyncio.to_thread(release_memory)
