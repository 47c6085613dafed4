"""Authentication and the optional simulated rate limit for every SendGrid route.

Any ``Authorization: Bearer <key>`` is accepted (the key names the inbox) unless
``--sendgrid-api-key`` lists keys; then anything else gets SendGrid's exact 401 bodies. A
request without the header is accepted as inbox ``default`` in the lenient mode, and refused
with ``authorization required`` when keys are enforced. ``--sendgrid-rate-limit N/s`` answers
429 with ``X-RateLimit-Limit/Remaining/Reset`` once a key spends its window's budget.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

from fastapi import Request

from mailsandbox.emulators.common.auth import bearer_token
from mailsandbox.emulators.sendgrid.errors import SendGridError
from mailsandbox.runtime import Sandbox

INVALID_GRANT = "The provided authorization grant is invalid, expired, or revoked"
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smh])\w*\s*")


def parse_rate(text: str) -> tuple[int, float] | None:
    """``"10/s"`` → (10, 1.0); ``"600/m"``, ``"5/10s"`` also work; empty → None."""
    if not text:
        return None
    match = _RATE.fullmatch(text)
    if not match:
        raise ValueError(f"not a rate limit: {text!r} (expected e.g. 10/s)")
    count, multiple, unit = match.groups()
    return int(count), float(multiple or 1) * _UNITS[unit]


@dataclass
class RateLimiter:
    """Fixed windows per key, the way SendGrid reports them (limit, remaining, reset epoch)."""

    limit: int
    window: float
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        start, used = self._windows.get(key, (0.0, 0))
        if now - start >= self.window:
            start, used = math.floor(now / self.window) * self.window, 0
        reset = str(math.ceil(start + self.window))
        if used >= self.limit:
            raise SendGridError.one(
                429,
                "too many requests",
                headers={
                    "X-RateLimit-Limit": str(self.limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset,
                },
            )
        self._windows[key] = (start, used + 1)


def enforced_key(request: Request) -> bool:
    """Whether the request carries one of the keys ``--sendgrid-api-key`` enforces (what the
    security layer asks of management calls when the sandbox runs with ``--ui-auth``)."""
    allowed = request.app.state.sandbox.settings.sendgrid_api_key
    return bool(allowed) and bearer_token(request) in allowed


async def authorize(request: Request) -> str:
    """FastAPI dependency: the API key of this request (``default`` when none), or 401/429.
    Async although it never awaits: FastAPI runs a plain ``def`` dependency on a worker thread,
    a hop that costs more than the check itself."""
    sandbox: Sandbox = request.app.state.sandbox
    allowed = sandbox.settings.sendgrid_api_key
    key = bearer_token(request)
    if allowed:
        if key is None:
            raise SendGridError.one(401, "authorization required")
        if key not in allowed:
            raise SendGridError.one(401, INVALID_GRANT)
    elif key == "":
        raise SendGridError.one(401, INVALID_GRANT)
    key = key or "default"
    limiter: RateLimiter | None = sandbox.extensions.get("sendgrid.rate_limiter")
    if limiter is not None:
        limiter.hit(key)
    return key
