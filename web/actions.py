"""The UI's state-changing routes: delete, mark unread/read, bulk actions. Same-origin only.

Every route is a POST guarded by :func:`web.guard.require_same_origin`. A form field ``next``
(a local path) makes the route redirect there (``HX-Redirect`` for htmx, 303 otherwise);
without it the refreshed inbox list fragment is returned for the state in ``HX-Current-URL``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from sandbox.api import changes
from sandbox.api.deps import get_sandbox
from sandbox.runtime import Sandbox
from web import queries
from web.guard import require_same_origin
from web.pages import InboxState, inbox_context, list_response
from web.render import Renderer, get_renderer

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def _after(request: Request, sandbox: Sandbox, renderer: Renderer, next_url: str) -> Response:
    if next_url:
        target = _safe_next(next_url)
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    current = request.headers.get("hx-current-url", "/")
    state = InboxState.from_url(current)
    return list_response(renderer, request, await inbox_context(sandbox, state))


@router.post("/ui/message/{message_id}/delete")
async def delete_one(
    request: Request,
    message_id: str,
    next: str = Form(""),
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> Response:
    await changes.delete(sandbox, [message_id])
    return await _after(request, sandbox, renderer, next)


@router.post("/ui/message/{message_id}/unread")
async def mark_unread(
    request: Request,
    message_id: str,
    next: str = Form(""),
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> Response:
    await changes.set_read(sandbox, [message_id], False)
    return await _after(request, sandbox, renderer, next)


@router.post("/ui/messages/read-all")
async def read_all(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> Response:
    await changes.set_read_all(sandbox, True)
    return await _after(request, sandbox, renderer, "")


@router.post("/ui/messages/delete-all")
async def delete_all(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> Response:
    await changes.delete_all(sandbox)
    return await _after(request, sandbox, renderer, "/")


@router.post("/ui/messages/delete-search")
async def delete_search(
    request: Request,
    q: str = Form(""),
    inbox: str = Form(""),
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> Response:
    state = InboxState(q, inbox)
    if state.q:
        ids = await sandbox.db.read(lambda conn: queries.search_ids(conn, state.q, state.inbox))
        await changes.delete(sandbox, ids)
    return await _after(request, sandbox, renderer, state.url(start=0))
