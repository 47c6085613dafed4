"""Identifiers: Mailpit-style 22-character base62 message ids and other random tokens."""

from __future__ import annotations

import os
import secrets
import threading
import uuid

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars)).rjust(width, "0")


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


def new_id() -> str:
    """A random UUIDv4 in 22 base62 characters (alphanumeric only, as Mailpit's ids are)."""
    return base62(uuid.UUID(bytes=_random16(), version=4).int, 22)


def token(length: int = 32) -> str:
    """A random alphanumeric token."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
