"""``GET /api/v1/message/{ID}/links`` and ``/codes``: what a test wants out of a mail.

``{ID}`` may be ``latest`` (the newest message, or the newest matching ``?query=``, as on
Mailpit's message endpoints). Bodies are parsed from the stored raw message and handed to
:mod:`mailsandbox.extract`; unknown ids are 404 and bad queries 400, as JSON ``{"Error": ...}``.
Reading links or codes does not mark the message read.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from mailsandbox import extract
from mailsandbox.api.deps import GoJSONResponse
from mailsandbox.api.lookup import Found, found_message

router = APIRouter(prefix="/api/v1/message", tags=["testing"])


async def _bodies(found: Found | Response = Depends(found_message)) -> tuple[str, str] | Response:
    """Route dependency: (text, html) of the message, or the error response to send instead."""
    if not isinstance(found, Found):
        return found
    parsed = found.parse()
    return parsed.text, parsed.html


Bodies = tuple[str, str] | Response


@router.get("/{message_id}/links")
async def message_links(bodies: Bodies = Depends(_bodies)) -> Response:
    """``{"links": [{"url", "text", "part", "target"}]}``, HTML links first."""
    if isinstance(bodies, Response):
        return bodies
    links = [
        {"url": link.url, "text": link.text, "part": link.part, "target": link.target}
        for link in extract.find_links(*bodies)
    ]
    return GoJSONResponse({"links": links})


@router.get("/{message_id}/codes")
async def message_codes(bodies: Bodies = Depends(_bodies)) -> Response:
    """``{"codes": [{"code", "context"}]}``, best first."""
    if isinstance(bodies, Response):
        return bodies
    codes = [{"code": c.code, "context": c.context} for c in extract.find_codes(*bodies)]
    return GoJSONResponse({"codes": codes})
