"""``GET /api/v1/message/{ID}/links`` and ``/codes``: what a test wants out of a mail.

``{ID}`` may be ``latest`` (the newest message, or the newest matching ``?query=``, as on
Mailpit's message endpoints). Bodies come from the message's parse (:mod:`mailsandbox.reading`)
and are scanned by :mod:`mailsandbox.extract` on a worker thread; unknown ids are 404 and bad
queries 400, as JSON ``{"Error": ...}``. Reading links or codes does not mark the message read.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from mailsandbox import extract
from mailsandbox.api.deps import GoJSONResponse
from mailsandbox.api.lookup import Found, found_message
from mailsandbox.reading import compute

router = APIRouter(prefix="/api/v1/message", tags=["testing"])


async def _bodies(found: Found | Response = Depends(found_message)) -> tuple[str, str] | Response:
    """Route dependency: (text, html) of the message, or the error response to send instead."""
    if not isinstance(found, Found):
        return found
    parsed = await found.parse()
    return parsed.text, parsed.html


Bodies = tuple[str, str] | Response


@router.get("/{message_id}/links")
async def message_links(bodies: Bodies = Depends(_bodies)) -> Response:
    """``{"links": [{"url", "text", "part", "target"}], "truncated": bool}``, HTML links first.

    ``truncated``: a body is longer than what is scanned (``extract.MAX_SCAN_CHARS``).
    """
    if isinstance(bodies, Response):
        return bodies
    found = await compute(sum(map(len, bodies)), extract.find_links, *bodies)
    links = [
        {"url": link.url, "text": link.text, "part": link.part, "target": link.target}
        for link in found
    ]
    return GoJSONResponse({"links": links, "truncated": extract.truncated(*bodies)})


@router.get("/{message_id}/codes")
async def message_codes(bodies: Bodies = Depends(_bodies)) -> Response:
    """``{"codes": [{"code", "context"}], "truncated": bool}``, best first."""
    if isinstance(bodies, Response):
        return bodies
    found = await compute(sum(map(len, bodies)), extract.find_codes, *bodies)
    codes = [{"code": c.code, "context": c.context} for c in found]
    return GoJSONResponse({"codes": codes, "truncated": extract.truncated(*bodies)})
