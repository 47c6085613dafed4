"""Reading a JSON request body for the emulators that speak JSON (SES v2, Postmark, Resend).

Up to a size limit, decoded with the core's one safe loader (``mailsandbox.safejson``: bad
syntax, bad UTF-8 and absurd nesting are all one error). Each provider answers a
:class:`BodyError` in its own shape; an empty body is ``None`` and the provider decides what
that means (SES: ``{}``; Postmark and Resend: a validation error).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mailsandbox import safejson


class BodyError(ValueError):
    """The body is too large (``too_large``) or not a JSON document."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


async def read_json(request: Request, limit: int) -> Any:
    """The decoded body; None when it is empty (or only whitespace)."""
    try:
        raw = await safejson.read_body(request, limit)
    except safejson.BodyTooLarge as exc:
        raise BodyError(str(exc), too_large=True) from None
    if not raw.strip():
        return None
    try:
        return await safejson.loads_off_loop(raw)
    except safejson.JSONInputError as exc:
        raise BodyError(str(exc)) from None
