"""Signing keys kept next to the database: generated once, reloaded at every start.

Webhook receivers are configured once with a public key or certificate (SendGrid's ECDSA key,
the SNS signing certificate of the SES emulator) or a shared secret (Mailgun's HMAC key,
Resend's ``whsec_`` secret), so the key must survive restarts. Files are written atomically (a
concurrent reader never sees half a key) and readable by the owner only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:  # (cryptography is loaded when a key is: it costs start-up time)
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

Key = TypeVar("Key", bound="PrivateKeyTypes")


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_or_create_secret(path: Path, generate: Callable[[], str]) -> str:
    """The text secret stored at ``path``; else a new one from ``generate``, saved there."""
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    secret = generate()
    write_private(path, (secret + "\n").encode())
    return secret


def load_or_create_key(path: Path, kind: type, generate: Callable[[], Key]) -> Key:
    """The PEM private key at ``path`` if it is a ``kind``; else a new one from ``generate``,
    saved there (PKCS#8, unencrypted)."""
    from cryptography.hazmat.primitives import serialization

    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, kind):  # ``kind`` is abstract: mypy takes no type[Key] for it
            return cast(Key, key)
    key = generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private(path, pem)
    return key
