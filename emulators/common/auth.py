"""Reading the credentials an ESP API request carries, for every emulator: a Bearer token
(SendGrid, Resend), HTTP Basic (Mailgun, the core's parser), a provider's own token header
(Postmark's ``X-Postmark-Server-Token``).

Which keys are accepted, and what a refusal looks like, stays with each provider.
"""

from __future__ import annotations

from starlette.requests import Request

from mailsandbox.api.security import basic_user


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None without the header, '' when it
    is not a (non-empty) Bearer token."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """``(user, password)`` of ``Authorization: Basic ...``, or None."""
    return basic_user(request.headers.get("authorization"))


def header_token(request: Request, name: str) -> str | None:
    """A token sent in a header of its own: None without the header, else its value trimmed."""
    value = request.headers.get(name)
    return None if value is None else value.strip()
