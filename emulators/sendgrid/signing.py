"""Signed Event Webhook keys: one ECDSA P-256 pair per data directory.

SendGrid signs ``timestamp + body`` with ECDSA/SHA-256 and publishes the public key as base64
DER (SubjectPublicKeyInfo, no PEM armour); verifiers such as sendgrid-python's ``EventWebhook``
and django-anymail take exactly that string. The private key is generated once and kept as
``sendgrid-webhook-key.pem`` next to the database so the public key survives restarts.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mailsandbox.emulators.common.keyfile import load_or_create_key

KEY_FILE = "sendgrid-webhook-key.pem"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


class SendGridSigner:
    """Signs Event Webhook payloads the way SendGrid does."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / KEY_FILE
        self._key = load_or_create_key(
            self.path, ec.EllipticCurvePrivateKey, lambda: ec.generate_private_key(ec.SECP256R1())
        )
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key_b64 = base64.b64encode(der).decode("ascii")

    def sign(self, payload: bytes, timestamp: str) -> str:
        """Base64 DER ECDSA signature over ``timestamp + payload`` (the exact bytes sent)."""
        signature = self._key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode("ascii")

    def headers(self, payload: bytes, timestamp: str) -> dict[str, str]:
        """The two headers a signed webhook POST carries."""
        return {SIGNATURE_HEADER: self.sign(payload, timestamp), TIMESTAMP_HEADER: timestamp}
