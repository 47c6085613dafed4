"""``GET /api/v1/message/{ID}/links`` and ``/codes``: what a test wants out of a mail.

``{ID}`` may be ``latest`` (the newest message, or the newest matching ``?query=``, as on
Mailpit's message endpoints). Bodies are parsed from the stored raw message and handed to
:mod:`sandbox.extract`; unknown ids are 404 and bad queries 400, as JSON ``{"Error": ...}``.
Reading links or codes does not mark the message read.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from sandbox import extract
from sandbox.api.deps import GoJSONResponse, get_sandbox
from sandbox.api.lookup import Found, find
from sandbox.runtime import Sandbox

router = APIRouter(prefix="/api/v1/message", tags=["testing"])


async def _bodies(
    request: Request, sandbox: Sandbox, message_id: str
) -> tuple[str, str] | Response:
    """(text, html) of the message, or the error response to send instead."""
    found = await find(request, sandbox, message_id)
    if not isinstance(found, Found):
        return found
    parsed = found.parse()
    return parsed.text, parsed.html


@router.get("/{message_id}/links")
async def message_links(
    message_id: str, request: Request, sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    """``{"links": [{"url", "text", "part", "target"}]}``, HTML links first."""
    bodies = await _bodies(request, sandbox, message_id)
    if isinstance(bodies, Response):
        return bodies
    links = [
        {"url": link.url, "text": link.text, "part": link.part, "target": link.target}
        for link in extract.find_links(*bodies)
    ]
    return GoJSONResponse({"links": links})


@router.get("/{message_id}/codes")
async def message_codes(
    message_id: str, request: Request, sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    """``{"codes": [{"code", "context"}]}``, best first."""
    bodies = await _bodies(request, sandbox, message_id)
    if isinstance(bodies, Response):
        return bodies
    codes = [{"code": c.code, "context": c.context} for c in extract.find_codes(*bodies)]
    return GoJSONResponse({"codes": codes})
