"""Message ids: 22 base62 characters carrying a UUIDv4, as Mailpit's ids do."""

from __future__ import annotations

import uuid

from mailsandbox import ids

ALPHABET = ids._ALPHABET


def _decode(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + ALPHABET.index(char)
    return number


def test_ids_are_22_alphanumerics_holding_a_version_4_uuid() -> None:
    made = {ids.new_id() for _ in range(2000)}
    assert len(made) == 2000
    for text in made:
        assert len(text) == 22 and text.isalnum() and text.isascii()
        value = uuid.UUID(int=_decode(text))
        assert value.version == 4 and value.variant == uuid.RFC_4122


def test_base62_round_trips_and_pads() -> None:
    for number in (0, 1, 61, 62, 3843, 3844, 2**64, 2**128 - 1):
        text = ids.base62(number, 22)
        assert len(text) == 22 and _decode(text) == number
    assert ids.base62(5, 3) == "005"
    assert ids.base62(62**3 - 1, 3) == "zzz"
