"""The SNS message signature: an RSA key and a self-signed certificate, kept beside the database.

Amazon SNS signs each HTTP message with ``SHA1withRSA`` (``SignatureVersion`` 1, the default)
or ``SHA256withRSA`` (2) over a canonical string of some of its fields, each as ``name\\n
value\\n`` in byte order (SNS developer guide, "Verifying the signatures of Amazon SNS
messages"), and names the certificate in ``SigningCertURL``. The sandbox serves its
certificate at ``/SimpleNotificationService-<hash>.pem``, so the documented verification
(fetch the certificate, take its public key, check the signature) passes. The pair is made
once and survives restarts, like the SendGrid signing key. It is loaded (or made: an RSA key
takes a while) when first needed, not at start-up, and cryptography with it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailsandbox.emulators.common.keyfile import load_or_create_key, write_private

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "sns-signing-key.pem"
CERT_FILE = "sns-signing-cert.pem"
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)


def _certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )


def string_to_sign(message: dict[str, Any]) -> bytes:
    """The canonical form of an SNS message (the fields its ``Type`` signs, when present)."""
    kind = message.get("Type")
    names = NOTIFICATION_FIELDS if kind == "Notification" else CONFIRMATION_FIELDS
    return "".join(
        f"{name}\n{message[name]}\n" for name in names if message.get(name) is not None
    ).encode("utf-8")


CERT_PREFIX = "/SimpleNotificationService-"  # the certificate's path, as SNS names it
SIGNER = "ses.sns_signer"  # the sandbox.extensions key of the SnsSigner


class SnsSigner:
    def __init__(self, data_dir: Path) -> None:
        self._data_dir = Path(data_dir)
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None
        self._certificate_pem = b""

    def _loaded(self) -> rsa.RSAPrivateKey:
        """The key, loaded or made (with its certificate) on first use."""
        with self._lock:
            if self._key is None:
                self._key, self._certificate_pem = self._load()
            return self._key

    def _load(self) -> tuple[rsa.RSAPrivateKey, bytes]:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = load_or_create_key(
            self._data_dir / KEY_FILE,
            rsa.RSAPrivateKey,
            lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        )
        cert_path = self._data_dir / CERT_FILE
        cert = None
        if cert_path.exists():
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            if cert.public_key() != key.public_key():
                cert = None  # the key was replaced: so is its certificate
        if cert is None:
            cert = _certificate(key)
            write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        return key, cert.public_bytes(serialization.Encoding.PEM)

    @property
    def certificate_pem(self) -> bytes:
        self._loaded()
        return self._certificate_pem

    @property
    def cert_path(self) -> str:
        """Where the certificate is served (named after its digest, as SNS names its own)."""
        digest = hashlib.md5(self.certificate_pem, usedforsecurity=False).hexdigest()
        return f"{CERT_PREFIX}{digest}.pem"

    def cert_url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.cert_path

    def sign(self, message: dict[str, Any]) -> str:
        """The base64 ``Signature`` of ``message`` for its ``SignatureVersion`` (1 or 2)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        algorithm: hashes.HashAlgorithm = (
            hashes.SHA256() if str(message.get("SignatureVersion")) == "2" else hashes.SHA1()
        )
        signature = self._loaded().sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        return base64.b64encode(signature).decode("ascii")
