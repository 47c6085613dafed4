"""Identifiers: Mailpit-style 22-character base62 message ids and other random tokens."""

from __future__ import annotations

import secrets
import uuid

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars)).rjust(width, "0")


def new_id() -> str:
    """A random UUIDv4 in 22 base62 characters (alphanumeric only, as Mailpit's ids are)."""
    return base62(uuid.uuid4().int, 22)


def token(length: int = 32) -> str:
    """A random alphanumeric token."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
