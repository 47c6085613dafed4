"""``NextToken`` paging of the SES and SNS list operations: the token is the last name of the
previous page (opaque to clients, stable while items are added)."""

from __future__ import annotations

from mailsandbox.emulators.ses.errors import BAD_REQUEST, SesError

DEFAULT_SIZE = 100
MAX_SIZE = 1000


def page(token: str | None, size: str | int | None) -> tuple[str, int]:
    """``(after, size)`` of a page request."""
    try:
        count = int(size) if size not in (None, "") else DEFAULT_SIZE
    except ValueError as exc:
        raise SesError(BAD_REQUEST, "PageSize must be a number.") from exc
    if count < 1:
        raise SesError(BAD_REQUEST, "PageSize must be at least 1.")
    return token or "", min(count, MAX_SIZE)
