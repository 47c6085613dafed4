"""The UI's state-changing routes: delete, mark unread/read, bulk actions on the whole store, a
search's results or the messages selected in the list. Same-origin only.

Every route is a POST guarded by :func:`.guard.require_same_origin`. A form field ``next``
(a local path) makes the route redirect there (``HX-Redirect`` for htmx, 303 otherwise);
without it the refreshed inbox list fragment is returned for the state in ``HX-Current-URL``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import RedirectResponse

from mailsandbox.storage import search
from mailsandbox.web import queries
from mailsandbox.web.guard import local_path, require_same_origin
from mailsandbox.web.pages import InboxState, inbox_context, list_response, page_size
from mailsandbox.web.render import UI, get_ui

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


async def _after(ui: UI, next_url: str) -> Response:
    if next_url:
        target = local_path(next_url)
        if ui.request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    state = InboxState.from_url(
        ui.request.headers.get("hx-current-url", "/"), page_size(ui.request)
    )
    return list_response(ui, await inbox_context(ui.sandbox, state, ui.visible))


@router.post("/ui/message/{message_id}/delete")
async def delete_one(message_id: str, next: str = Form(""), ui: UI = Depends(get_ui)) -> Response:
    await ui.sandbox.mailbox.delete([message_id], ui.visible)
    return await _after(ui, next)


@router.post("/ui/message/{message_id}/unread")
async def mark_unread(message_id: str, next: str = Form(""), ui: UI = Depends(get_ui)) -> Response:
    await ui.sandbox.mailbox.set_read([message_id], False, ui.visible)
    return await _after(ui, next)


@router.post("/ui/messages/read-all")
async def read_all(ui: UI = Depends(get_ui)) -> Response:
    await ui.sandbox.mailbox.set_read_all(True, ui.visible)
    return await _after(ui, "")


@router.post("/ui/messages/delete-all")
async def delete_all(ui: UI = Depends(get_ui)) -> Response:
    await ui.sandbox.mailbox.delete_all(ui.visible)
    return await _after(ui, "/")


@router.post("/ui/messages/delete-search")
async def delete_search(
    q: str = Form(""), inbox: str = Form(""), ui: UI = Depends(get_ui)
) -> Response:
    state = InboxState(q, inbox)
    if state.q:
        visible = ui.visible
        try:
            ids = await ui.sandbox.db.read(
                lambda conn: search.matching_ids(
                    conn, state.q, inbox=state.inbox or None, visible=visible
                )
            )
        except search.SearchError as exc:  # e.g. a term that selects nothing: delete nothing
            context = await inbox_context(ui.sandbox, state, visible)
            page = context["page"]
            assert isinstance(page, queries.InboxPage)
            page.error = f"{exc}. Nothing was deleted."
            response = list_response(ui, context)
            response.headers.update({"HX-Retarget": "#list", "HX-Reswap": "outerHTML"})
            return response
        await ui.sandbox.mailbox.delete(ids, visible)
    return await _after(ui, state.url(start=0))


BULK_ACTIONS = ("read", "unread", "delete", "tag", "untag")


@router.post("/ui/messages/bulk")
async def bulk(
    action: str = Form(...),
    ids: list[str] = Form([]),
    tag: str = Form(""),
    ui: UI = Depends(get_ui),
) -> Response:
    """The inbox's multi-select: mark read/unread, delete, add or remove a tag (``tag``,
    comma-separated) on the checked messages (``ids``)."""
    sandbox, visible = ui.sandbox, ui.visible
    if action not in BULK_ACTIONS:
        return Response(f"unknown action: {action}", status_code=400)
    if action in ("read", "unread"):
        await sandbox.mailbox.set_read(ids, action == "read", visible)
    elif action == "delete":
        await sandbox.mailbox.delete(ids, visible)
    elif action == "tag":
        await sandbox.mailbox.edit_tags(ids, add=tag.split(","), visible=visible)
    else:
        tags = [t.strip() for t in tag.split(",")]
        await sandbox.mailbox.edit_tags(ids, remove=tags, visible=visible)
    return await _after(ui, "")
