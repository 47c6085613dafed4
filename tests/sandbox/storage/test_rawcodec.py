"""The raw-message codec: what is packed comes back byte for byte, whole or piece by piece."""

from __future__ import annotations

import base64
import os
import zlib

import pytest

from mailsandbox.storage import rawcodec

TEXT = b"From: a@example.com\r\nSubject: hi\r\n\r\n" + b"Hello there, reader.\r\n" * 5000
NOISE = os.urandom(300_000)  # does not compress: stored as it came


def reader_of(stored: bytes, calls: list[int] | None = None) -> rawcodec.ReadStored:
    def read(offset: int, size: int) -> bytes:
        if calls is not None:
            calls.append(size)
        return stored[offset : offset + size]

    return read


def test_pack_compresses_what_shrinks_and_keeps_the_rest_plain() -> None:
    stored, codec = rawcodec.pack(TEXT)
    assert codec == rawcodec.DEFLATE and len(stored) < len(TEXT) // 10
    assert rawcodec.unpack(stored, codec) == TEXT
    assert rawcodec.pack(NOISE) == (NOISE, rawcodec.PLAIN)
    assert rawcodec.unpack(NOISE, rawcodec.PLAIN) == NOISE
    assert rawcodec.pack(b"") == (b"", rawcodec.PLAIN)
    with pytest.raises(ValueError, match="unknown raw message codec 7"):
        rawcodec.unpack(b"x", 7)


def test_a_big_message_of_base64_is_huffman_coded_and_comes_back() -> None:
    attachment = base64.encodebytes(os.urandom(3_000_000)).replace(b"\n", b"\r\n")
    raw = TEXT + attachment  # 4 MB: base64 at its end, as mail puts its attachments
    stored, codec = rawcodec.pack(raw)
    assert codec == rawcodec.DEFLATE
    assert len(raw) / len(stored) > 1.3  # (Huffman codes 64 symbols in ~6 bits)
    assert rawcodec.unpack(stored, codec) == raw


@pytest.mark.parametrize("size", [1, 1000, 65_536, 1024 * 1024])
@pytest.mark.parametrize("raw", [TEXT, NOISE + TEXT, TEXT + NOISE], ids=["text", "mixed", "tail"])
def test_pieces_read_in_order_are_the_whole_message(raw: bytes, size: int) -> None:
    stored, codec = rawcodec.pack(raw)
    unpacker, pieces = rawcodec.Unpacker(codec), []
    while piece := unpacker.read(reader_of(stored), size):
        assert len(piece) <= size
        pieces.append(piece)
    assert b"".join(pieces) == raw
    assert all(len(p) == size for p in pieces[:-1])  # full pieces until the end
    assert unpacker.read(reader_of(stored), size) == b""


def test_a_prefix_reads_only_a_slice_of_the_stored_bytes() -> None:
    big = os.urandom(64) + b"line of text\r\n" * 500_000  # 7 MB
    stored, codec = rawcodec.pack(big)
    calls: list[int] = []
    assert rawcodec.Unpacker(codec).read(reader_of(stored, calls), 1000) == big[:1000]
    assert calls == [rawcodec.STORED_SLICE]


def test_a_stream_cut_short_or_replaced_ends_instead_of_failing() -> None:
    stored, codec = rawcodec.pack(TEXT)
    cut = rawcodec.Unpacker(codec).read(reader_of(stored[: len(stored) // 2]), len(TEXT))
    assert TEXT.startswith(cut) and len(cut) < len(TEXT)
    garbage = zlib.compress(b"x")[:2] + b"\xff" * 100  # a zlib header, then nonsense
    assert rawcodec.Unpacker(rawcodec.DEFLATE).read(reader_of(garbage), 100) == b""
    assert rawcodec.Unpacker(rawcodec.DEFLATE).read(reader_of(b""), 100) == b""
