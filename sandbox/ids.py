"""Identifiers: Mailpit-style 22-character base62 message ids and other random tokens."""

from __future__ import annotations

import os
import secrets
import threading

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # two digits per division


def base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rem = divmod(number, 3844)
        chars.append(_PAIRS[rem])
    return "".join(reversed(chars)).lstrip("0").rjust(width, "0")


_pool = bytearray()
_pool_lock = threading.Lock()


def _random16() -> bytes:
    """16 random bytes from a pooled ``os.urandom`` (one system call per 256 ids, not per id)."""
    with _pool_lock:
        if len(_pool) < 16:
            _pool.extend(os.urandom(4096))
        chunk = bytes(_pool[:16])
        del _pool[:16]
    return chunk


# The version and variant bits of a UUIDv4, set as uuid.UUID(version=4) sets them.
_KEEP = ~((0xC000 << 48) | (0xF000 << 64))
_SET = (0x8000 << 48) | (4 << 76)


def new_id() -> str:
    """A random UUIDv4 in 22 base62 characters (alphanumeric only, as Mailpit's ids are)."""
    return base62(int.from_bytes(_random16(), "big") & _KEEP | _SET, 22)


def token(length: int = 32) -> str:
    """A random alphanumeric token."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
