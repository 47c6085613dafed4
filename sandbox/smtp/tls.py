"""TLS for STARTTLS and SMTPS (and POP3's STLS, HTTPS), only when asked for: the user's pair,
or a self-signed one.

``--smtp-tls self-signed`` generates a certificate once and keeps it beside the database. It
names ``localhost``, ``127.0.0.1``, ``::1`` (and ``mailsandbox``, the compose service name), so a
client told to trust that file verifies it whichever of those it connects to. Loading either
pair fails with a ``ValueError`` of one line that names the file at fault, which ``mailsandbox
serve`` prints before exiting with status 2.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

# cryptography is imported where a pair is made or checked: loading it costs start-up time,
# and a sandbox without TLS never needs it.
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

CERT_FILE = "mailsandbox.cert.pem"
KEY_FILE = "mailsandbox.key.pem"
DNS_NAMES = ("localhost", "mailsandbox")
IP_ADDRESSES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
VALID_DAYS = 3650
_PRIVATE_KEY = re.compile(
    rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.S
)


def ensure_self_signed(directory: Path, hostname: str = "localhost") -> tuple[Path, Path]:
    """Return (cert, key) paths in ``directory``, generating them when missing or outdated.

    A pair left by an older version (without the IP addresses) or close to expiry is replaced.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    if key_path.exists() and _still_good(cert_path, hostname):
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _self_signed(key, hostname)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key_path.unlink(missing_ok=True)  # created afresh below, never readable by others
        with os.fdopen(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(key_pem)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    except OSError as exc:
        raise ValueError(
            f"cannot write the self-signed TLS pair in {directory}: {exc.strerror or exc}"
        ) from None
    return cert_path, key_path


def configured_pair(mode: str, cert: str, key: str, directory: Path) -> tuple[Path, Path] | None:
    """The (cert, key) a service (SMTP, POP3, HTTP) was told to use: its own pair, the
    self-signed pair beside the database (``mode`` ``self-signed``; one pair, shared by every
    service that asks for it), or None for no TLS."""
    if cert:
        return Path(cert), Path(key)
    if mode == "self-signed":
        return ensure_self_signed(directory)
    return None


def _self_signed(key: ec.EllipticCurvePrivateKey, hostname: str) -> x509.Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    # Shaped like `openssl req -x509`'s (its own CA, key identifiers), which every TLS stack
    # tried (OpenSSL in Python, Node, PHP and Ruby; Python 3.13's strict X.509 checks) accepts
    # as a trust anchor for itself.
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    dns = dict.fromkeys((hostname, *DNS_NAMES))  # in order, without repeats
    public_key = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [*(x509.DNSName(n) for n in dns), *(x509.IPAddress(ip) for ip in IP_ADDRESSES)]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )


def _still_good(cert_path: Path, hostname: str) -> bool:
    """Whether a generated certificate exists, names what it must and has a month left."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    month_ahead = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    return (
        {hostname, *DNS_NAMES} <= set(names.get_values_for_type(x509.DNSName))
        and set(IP_ADDRESSES) <= set(names.get_values_for_type(x509.IPAddress))
        and cert.not_valid_after_utc > month_ahead
    )


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context for the pair; a ``ValueError`` naming the file that is at fault."""
    for path, what in ((cert, "certificate"), (key, "key")):
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise ValueError(f"TLS {what} {path}: {exc.strerror or exc}") from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        # A passphrase callback that gives none: OpenSSL would otherwise prompt on the terminal.
        context.load_cert_chain(cert, key, password=lambda: b"")
    except ssl.SSLError:
        raise ValueError(_what_is_wrong(cert, key)) from None
    return context


def _what_is_wrong(cert: Path, key: Path) -> str:
    """Which file of a pair OpenSSL refused ("PEM lib" does not say), and why."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        x509.load_pem_x509_certificates(cert.read_bytes())
    except ValueError:
        return f"TLS certificate {cert}: not a PEM certificate"
    found = _PRIVATE_KEY.search(key.read_bytes())
    if found is None:
        return f"TLS key {key}: not a PEM private key"
    if b"ENCRYPTED" in found.group(1):
        return f"TLS key {key}: protected by a passphrase; give an unencrypted key"
    try:
        serialization.load_pem_private_key(found.group(0), password=None)
    except (ValueError, TypeError, NotImplementedError):
        return f"TLS key {key}: not a usable PEM private key"
    return f"TLS key {key} does not belong to the certificate {cert}"
