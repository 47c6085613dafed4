"""Release a stored message to the relay server: Mailpit's ``POST /api/v1/message/{ID}/release``
(spec §4, §12.4), and ``GET /api/v1/message/{ID}/releases``, the record of every release and
auto-relay of it (our extension).

Release errors are plain text, as Mailpit's are: 404 for an unknown message, 400 otherwise
(the reasons and their texts are in :mod:`mailsandbox.relay.service`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse

from mailsandbox.api.deps import BodyError, GoJSONResponse, get_sandbox, json_body, ok, string_list
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.logins import Visible
from mailsandbox.relay import ReleaseError, relay_of
from mailsandbox.runtime import Sandbox

router = APIRouter(prefix="/api/v1/message", tags=["message"])


@router.post("/{message_id}/release")
async def release(
    message_id: str,
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """``{"To": ["a@example.com", "Ann <ann@example.com>"]}``: send the message there."""
    try:
        entries = string_list(await json_body(request), "To")
    except BodyError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    try:
        await relay_of(sandbox).release(message_id, entries, visible)
    except ReleaseError as exc:
        return PlainTextResponse(exc.text, status_code=exc.status)
    return ok()


@router.get("/{message_id}/releases")
async def releases(
    message_id: str,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """Every release and auto-relay of the message, newest first (kept after it is deleted)."""
    history = await relay_of(sandbox).history(message_id, visible)
    return GoJSONResponse({"releases": [r.as_json() for r in history]})
