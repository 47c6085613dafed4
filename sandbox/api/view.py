"""``/view/{ID}.html`` and ``/view/{ID}.txt``: a message's body rendered on its own.

The HTML is the message's own markup, verbatim (Mailpit's clients compare it), so it is made
inert with response headers only: :func:`~.rendering.message_csp`, the UI preview's policy
(no scripts, an opaque origin, no ``<base href>`` rebasing; remote images, styles and fonts only
with ``?remote=1``). The text is served with ``nosniff`` and a ``sandbox`` CSP.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from mailsandbox.api import rendering
from mailsandbox.api.deps import get_sandbox, not_found
from mailsandbox.api.lookup import Found, found_message, mark_read, opened_message
from mailsandbox.runtime import Sandbox

router = APIRouter(prefix="/view", tags=["view"])


@router.get("/{message_id}.html")
async def view_html(
    request: Request,
    found: Found | Response = Depends(found_message),
    sandbox: Sandbox = Depends(get_sandbox),
    embed: str = Query(""),
    remote: str = Query("", description="1 to load remote images, styles and fonts"),
) -> Response:
    if not isinstance(found, Found):
        return found
    parsed = found.parse()
    if not parsed.html:
        return not_found("This message does not contain a HTML part")
    await mark_read(sandbox, found)
    markup = rendering.rewrite_cids(parsed.html, found.summary.id, parsed.parts)
    if embed in ("1", "true"):
        markup = rendering.embed(markup)
    policy = rendering.message_csp(rendering.own_origin(request), remote in ("1", "true"))
    return Response(
        markup,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/{message_id}.txt")
async def view_text(found: Found | Response = Depends(opened_message)) -> Response:
    if not isinstance(found, Found):
        return found
    text = found.parse().text
    return Response(text, media_type="text/plain; charset=utf-8", headers=rendering.RAW_HEADERS)
