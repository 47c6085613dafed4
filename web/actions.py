"""The UI's state-changing routes: delete, mark unread/read, bulk actions. Same-origin only.

Every route is a POST guarded by :func:`.guard.require_same_origin`. A form field ``next``
(a local path) makes the route redirect there (``HX-Redirect`` for htmx, 303 otherwise);
without it the refreshed inbox list fragment is returned for the state in ``HX-Current-URL``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import RedirectResponse

from mailsandbox.api import changes
from mailsandbox.web import queries
from mailsandbox.web.guard import local_path, require_same_origin
from mailsandbox.web.pages import InboxState, inbox_context, list_response
from mailsandbox.web.render import UI, get_ui

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


async def _after(ui: UI, next_url: str) -> Response:
    if next_url:
        target = local_path(next_url)
        if ui.request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    state = InboxState.from_url(ui.request.headers.get("hx-current-url", "/"))
    return list_response(ui, await inbox_context(ui.sandbox, state, ui.visible))


@router.post("/ui/message/{message_id}/delete")
async def delete_one(message_id: str, next: str = Form(""), ui: UI = Depends(get_ui)) -> Response:
    await changes.delete(ui.sandbox, [message_id], ui.visible)
    return await _after(ui, next)


@router.post("/ui/message/{message_id}/unread")
async def mark_unread(message_id: str, next: str = Form(""), ui: UI = Depends(get_ui)) -> Response:
    await changes.set_read(ui.sandbox, [message_id], False, ui.visible)
    return await _after(ui, next)


@router.post("/ui/messages/read-all")
async def read_all(ui: UI = Depends(get_ui)) -> Response:
    await changes.set_read_all(ui.sandbox, True, ui.visible)
    return await _after(ui, "")


@router.post("/ui/messages/delete-all")
async def delete_all(ui: UI = Depends(get_ui)) -> Response:
    await changes.delete_all(ui.sandbox, ui.visible)
    return await _after(ui, "/")


@router.post("/ui/messages/delete-search")
async def delete_search(
    q: str = Form(""), inbox: str = Form(""), ui: UI = Depends(get_ui)
) -> Response:
    state = InboxState(q, inbox)
    if state.q:
        visible = ui.visible
        ids = await ui.sandbox.db.read(
            lambda conn: queries.search_ids(conn, state.q, state.inbox, visible)
        )
        await changes.delete(ui.sandbox, ids, visible)
    return await _after(ui, state.url(start=0))
