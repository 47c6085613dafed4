"""How raw messages are stored: compressed with zlib (issue 19), one codec for every reader.

``message_raw`` holds each message's bytes as :func:`pack` stored them and a ``codec`` column
saying how: ``PLAIN`` (as received: rows written before migration ``core.0500`` compressed
them, and messages that zlib would not make smaller, such as already-compressed
attachments) or ``DEFLATE`` (a zlib stream). Every read goes through :func:`unpack` (the whole
message) or :class:`Unpacker` (piece by piece, for streams and prefixes: the stored bytes are
read in slices and inflated as they come, so a 50 MB message never sits in memory whole), on
SQLite and PostgreSQL alike.

Level 1: on the mail of ``bench/scale.py`` (3.2 KB on average) it stores 3.45x smaller for
30 us per message, level 6 3.60x for 46 us; inflating costs 12 us at either level
(figures and commands in bench/README.md, "Disk (issue 19)"). Ingest CPU is the tighter
budget, so level 1; big messages of base64 are Huffman-coded only (see ``LZ_WORTH``). zlib is
in the standard library (no dependency) and releases the GIL while it works.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

PLAIN = 0
DEFLATE = 1
LEVEL = 1
STORED_SLICE = 256 * 1024  # stored bytes read at a time by an Unpacker
# A big message whose last SAMPLE bytes (where mail keeps its attachments) shrink less than
# LZ_WORTH times at LEVEL is mostly base64 of compressed data (images, PDFs, archives), with
# no repeats for LZ77 to find: Huffman coding alone gets nearly all of zlib's gain on it
# (1.35x against 1.37x on a 10 MB message) for a third of the CPU (79 ms against 258 ms).
BIG = 256 * 1024
SAMPLE = 64 * 1024
LZ_WORTH = 1.5

ReadStored = Callable[[int, int], bytes]
"""``read(offset, size)``: up to ``size`` stored bytes from ``offset`` (b"" past the end)."""


def pack(raw: bytes) -> tuple[bytes, int]:
    """``(stored bytes, codec)`` for a raw message: compressed, unless that is no smaller."""
    strategy = zlib.Z_DEFAULT_STRATEGY
    if len(raw) > BIG:
        sample = raw[-SAMPLE:]
        if len(zlib.compress(sample, LEVEL)) * LZ_WORTH > len(sample):
            strategy = zlib.Z_HUFFMAN_ONLY
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, zlib.MAX_WBITS, 8, strategy)
    packed = packer.compress(raw) + packer.flush()
    if len(packed) >= len(raw):
        return raw, PLAIN
    return packed, DEFLATE


def unpack(stored: bytes, codec: int) -> bytes:
    """The raw message from its stored bytes."""
    if codec == PLAIN:
        return stored
    if codec == DEFLATE:
        return zlib.decompress(stored)
    raise ValueError(f"unknown raw message codec {codec}")


class Unpacker:
    """A stored message read piece by piece, in order: each :meth:`read` returns the next
    bytes of the raw message, fetching the stored bytes a slice at a time as it needs them
    (the caller's ``read_stored`` may run on a different connection each time)."""

    def __init__(self, codec: int) -> None:
        if codec not in (PLAIN, DEFLATE):
            raise ValueError(f"unknown raw message codec {codec}")
        self.codec = codec
        self.stored_offset = 0  # stored bytes fetched so far
        self._inflate = zlib.decompressobj() if codec == DEFLATE else None
        self._pending = b""  # stored bytes fetched but not yet inflated

    def read(self, read_stored: ReadStored, size: int) -> bytes:
        """Up to ``size`` more bytes of the raw message (fewer only at its end; b"" after it,
        or once the row is gone). A stream that does not inflate ends there too."""
        if self._inflate is None:
            data = read_stored(self.stored_offset, size)
            self.stored_offset += len(data)
            return data
        out: list[bytes] = []
        wanted = size
        while wanted > 0 and not self._inflate.eof:
            if not self._pending:
                self._pending = read_stored(self.stored_offset, STORED_SLICE)
                self.stored_offset += len(self._pending)
                if not self._pending:
                    break  # deleted meanwhile (or cut short): the stream ends
            try:
                piece = self._inflate.decompress(self._pending, wanted)
            except zlib.error:  # not this message's stream any more: end it
                break
            self._pending = self._inflate.unconsumed_tail
            out.append(piece)
            wanted -= len(piece)
        return b"".join(out)
