"""The Mailgun webhook signing key and the HMAC signatures made with it.

Mailgun signs each webhook POST with ``hex(HMAC-SHA256(key, timestamp + token))``. The key is
``--mailgun-webhook-signing-key`` when given; otherwise one is generated on first start and
kept in the data directory, so a restart keeps verifying receivers happy. The instance lives at
``sandbox.extensions["mailgun.signer"]``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path

from mailsandbox.emulators.common.keyfile import load_or_create_secret

KEY_FILE = "mailgun-webhook-signing-key.txt"


class MailgunSigner:
    """Signs webhook payloads the way Mailgun does."""

    def __init__(self, key: str, data_dir: Path) -> None:
        self.key = key or load_or_create_secret(
            Path(data_dir) / KEY_FILE, lambda: secrets.token_hex(16)
        )

    def sign(self, timestamp: str, token: str) -> str:
        """``hex(HMAC-SHA256(key, timestamp + token))``."""
        message = (timestamp + token).encode()
        return hmac.new(self.key.encode(), message, hashlib.sha256).hexdigest()

    def signature_block(self) -> dict[str, str]:
        """A fresh ``signature`` object for one webhook POST (token unique per POST)."""
        timestamp = str(int(time.time()))
        token = secrets.token_hex(25)  # 50 characters, like Mailgun's
        return {"timestamp": timestamp, "token": token, "signature": self.sign(timestamp, token)}
