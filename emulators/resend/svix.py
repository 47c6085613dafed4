"""Signing Resend's webhooks the Svix way (docs.svix.com, "Verifying payloads manually").

Each POST carries ``svix-id`` (the same for every retry of one event to one endpoint),
``svix-timestamp`` (Unix seconds, at the attempt: Svix verifiers refuse one more than five
minutes off) and ``svix-signature``: ``v1,`` + base64 of HMAC-SHA256 over
``{id}.{timestamp}.{body}`` keyed with the base64-decoded part of the ``whsec_...`` secret.

Each webhook created through ``/webhooks`` has its own secret (returned as ``signing_secret``);
the ``--resend-webhook-url`` webhooks share the account secret: ``--resend-webhook-secret``, or
one generated on first start and kept next to the database (``resend-webhook-secret.txt``).
The webhooks' secrets are loaded at start (:func:`load_secrets`), then kept up to date by
``webhooks_api``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path

from mailsandbox.config import parse_whsec
from mailsandbox.emulators.common.keyfile import load_or_create_secret
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks as store

SECRET_FILE = "resend-webhook-secret.txt"
EXTENSION = "resend.signer"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_message_id() -> str:
    """A Svix message id (``msg_`` and 27 base62-ish characters)."""
    return "msg_" + secrets.token_urlsafe(20).replace("-", "x").replace("_", "y")[:27]


def signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(parse_whsec(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class Signer:
    """The account secret and the secrets of the API-created webhooks (by endpoint id)."""

    def __init__(self, secret: str, data_dir: Path) -> None:
        self.account_secret = secret or load_or_create_secret(
            Path(data_dir) / SECRET_FILE, new_secret
        )
        self.secrets: dict[str, str] = {}

    def headers(self, endpoint_id: str, message_id: str, body: bytes) -> dict[str, str]:
        secret = self.secrets.get(endpoint_id, self.account_secret)
        timestamp = str(int(time.time()))
        return {
            "svix-id": message_id,
            "svix-timestamp": timestamp,
            "svix-signature": signature(secret, message_id, timestamp, body),
        }


def signer_of(sandbox: Sandbox) -> Signer:
    found: Signer = sandbox.extensions[EXTENSION]
    return found


async def load_secrets(sandbox: Sandbox) -> None:
    """At start (and when another replica changed them): the secrets of the webhooks."""
    found = await sandbox.db.read(lambda conn: store.list_endpoints(conn, "resend"))
    signer_of(sandbox).secrets = {
        endpoint.id: str(endpoint.details["signing_secret"])
        for endpoint in found
        if endpoint.details.get("signing_secret")
    }
