"""``/view/{ID}.html`` and ``/view/{ID}.txt``: a message's body rendered on its own.

The HTML is served under ``Content-Security-Policy: sandbox`` (no scripts, an opaque origin), so
mail markup can never act as our origin, whether opened directly or framed by the UI.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from mailsandbox.api import rendering
from mailsandbox.api.deps import get_sandbox, not_found
from mailsandbox.api.lookup import Found, found_message, mark_read, opened_message
from mailsandbox.reading import compute
from mailsandbox.runtime import Sandbox

router = APIRouter(prefix="/view", tags=["view"])

HTML_POLICY = (
    "sandbox; default-src 'none'; img-src * data: cid:; style-src 'unsafe-inline' *; font-src *"
)


@router.get("/{message_id}.html")
async def view_html(
    found: Found | Response = Depends(found_message),
    sandbox: Sandbox = Depends(get_sandbox),
    embed: str = Query(""),
) -> Response:
    if not isinstance(found, Found):
        return found
    parsed = await found.parse()
    if not parsed.html:
        return not_found("This message does not contain a HTML part")
    await mark_read(sandbox, found)
    markup = await compute(
        len(parsed.html), rendering.view_markup, parsed, found.summary.id, embed in ("1", "true")
    )
    return Response(
        markup,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": HTML_POLICY, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/{message_id}.txt")
async def view_text(found: Found | Response = Depends(opened_message)) -> Response:
    if not isinstance(found, Found):
        return found
    return Response((await found.parse()).text, media_type="text/plain; charset=utf-8")
