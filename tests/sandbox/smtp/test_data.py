"""The chunked DATA reader, fed through a real asyncio StreamReader."""

from __future__ import annotations

import asyncio

import pytest

from mailsandbox.smtp.data import read_data, unstuff


async def _read(chunks: list[bytes], max_size: int = 0, limit: int = 1001) -> bytes | None:
    """Feed ``chunks`` one at a time, as separate network reads would deliver them."""
    reader = asyncio.StreamReader(limit=limit)

    async def feed() -> None:
        for chunk in chunks[:-1]:
            reader.feed_data(chunk)
            await asyncio.sleep(0)  # let the reader take this chunk on its own
        # the last chunk arrives together with the client's next (pipelined) command
        reader.feed_data(chunks[-1] + b"NEXT COMMAND\r\n")

    feeding = asyncio.create_task(feed())
    result = await read_data(reader, max_size)
    await feeding
    assert await reader.readline() == b"NEXT COMMAND\r\n"  # stopped right after the end marker
    return result


def read(chunks: list[bytes], max_size: int = 0, limit: int = 1001) -> bytes | None:
    return asyncio.run(_read(chunks, max_size, limit))


def test_empty_message() -> None:
    assert read([b".\r\n"]) == b""


def test_lines_ending_in_a_dot_do_not_end_the_message() -> None:
    assert read([b"Subject: x\r\n\r\nThe end.\r\nMore.\r\n.\r\n"]) == (
        b"Subject: x\r\n\r\nThe end.\r\nMore.\r\n"
    )


def test_end_marker_split_across_every_possible_boundary() -> None:
    data = b"a\r\n..b\r\nc.\r\n.\r\n"
    for cut in range(1, len(data)):
        assert read([data[:cut], data[cut:]]) == b"a\r\n.b\r\nc.\r\n", cut


def test_one_line_and_empty_messages_split_anywhere() -> None:
    for data, expected in ((b"x\r\n.\r\n", b"x\r\n"), (b".\r\n", b"")):
        for cut in range(1, len(data)):
            assert read([data[:cut], data[cut:]]) == expected, (data, cut)
        assert read([bytes([byte]) for byte in data]) == expected


def test_a_message_arriving_byte_by_byte() -> None:
    data = b"Subject: x\r\n\r\nThe end.\r\n..dot\r\n\r\n.\r\n"
    assert read([bytes([byte]) for byte in data]) == b"Subject: x\r\n\r\nThe end.\r\n.dot\r\n\r\n"


def test_dot_stuffing_is_undone_once_per_line() -> None:
    assert unstuff(b"..a\r\n...b\r\n.c\r\nd.\r\n") == b".a\r\n..b\r\nc\r\nd.\r\n"
    assert read([b"..\r\n.\r\n"]) == b".\r\n"


def test_long_lines_bigger_than_the_stream_limit() -> None:
    body = b"y" * 200_000 + b"\r\n" + b"z" * 70_000 + b".\r\n"
    assert read([body + b".\r\n"], limit=1001) == body


def test_size_limit_counts_the_unstuffed_message() -> None:
    exact = b"..\r\n" + b"x" * 95 + b"\r\n"  # stuffed: 101 bytes; stored: 100
    assert read([exact + b".\r\n"], max_size=100) == exact[1:]
    assert read([b"x" * 99 + b"\r\n.\r\n"], max_size=100) is None


def test_oversized_data_is_drained_not_kept() -> None:
    assert read([b"x" * 1000 + b"\r\n"] * 50 + [b".\r\n"], max_size=10_000) is None


def test_eof_in_the_middle_is_a_reset() -> None:
    async def cut_off() -> None:
        reader = asyncio.StreamReader()
        reader.feed_data(b"Subject: x\r\n\r\nhalf")
        reader.feed_eof()
        await read_data(reader, 0)

    with pytest.raises(ConnectionResetError):
        asyncio.run(cut_off())
