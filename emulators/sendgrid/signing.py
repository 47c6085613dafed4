"""Signed Event Webhook keys: one ECDSA P-256 pair per data directory.

SendGrid signs ``timestamp + body`` with ECDSA/SHA-256 and publishes the public key as base64
DER (SubjectPublicKeyInfo, no PEM armour); verifiers such as sendgrid-python's ``EventWebhook``
and django-anymail take exactly that string. The private key is generated once and kept as
``sendgrid-webhook-key.pem`` next to the database so the public key survives restarts. The
key (and ``cryptography``) is loaded at its first use, not at start: start-up stays quick.
"""

from __future__ import annotations

import base64
import functools
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

KEY_FILE = "sendgrid-webhook-key.pem"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


def _load_or_create(path: Path) -> ec.EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sendgrid-key-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)  # atomic: a concurrent reader never sees half a key
    return key


class SendGridSigner:
    """Signs Event Webhook payloads the way SendGrid does."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / KEY_FILE

    @functools.cached_property
    def _key(self) -> ec.EllipticCurvePrivateKey:
        return _load_or_create(self.path)

    @functools.cached_property
    def public_key_b64(self) -> str:
        """The public key as SendGrid shows it: base64 DER SubjectPublicKeyInfo."""
        from cryptography.hazmat.primitives import serialization

        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    def sign(self, payload: bytes, timestamp: str) -> str:
        """Base64 DER ECDSA signature over ``timestamp + payload`` (the exact bytes sent)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        signature = self._key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode("ascii")

    def headers(self, payload: bytes, timestamp: str) -> dict[str, str]:
        """The two headers a signed webhook POST carries."""
        return {SIGNATURE_HEADER: self.sign(payload, timestamp), TIMESTAMP_HEADER: timestamp}
