"""Random ids the emulators hand out: UUIDs (SES, Postmark and Resend message ids, Svix ids)
and SendGrid's 22-character url-safe ``X-Message-Id``.

They come from one ``random.Random`` seeded from ``os.urandom`` once: ids need uniqueness, not
secrecy, and an ``os.urandom`` call per id drops the GIL, so under load the event loop waits for
the system call to come back (a measurable share of a send's time).
"""

from __future__ import annotations

import base64
import random
import uuid

_ids = random.Random()


def new_uuid() -> str:
    """A random UUIDv4 in its usual text form."""
    return str(uuid.UUID(int=_ids.getrandbits(128), version=4))


def url_safe_id() -> str:
    """22 url-safe characters, like ``kA5kcHA8SVGtVh5S9rAUew`` (128 random bits)."""
    raw = _ids.getrandbits(128).to_bytes(16, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
