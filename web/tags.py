"""Tags in the UI: adding and removing tags on a message, and renaming or deleting a tag
everywhere (the inbox's tag sidebar). The searches that filter by a tag are made by
``render.tag_query`` / ``render.active_tag`` (template filters too).

The changes go through the same functions as the REST API (``PUT /api/v1/tags``,
``PUT``/``DELETE /api/v1/tags/{tag}``), so both doors clean names and announce changes alike.
Every route is a same-origin POST (:func:`.guard.require_same_origin`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import RedirectResponse

from mailsandbox import tagging
from mailsandbox.api import tags as api_tags
from mailsandbox.storage import messages
from mailsandbox.web.guard import require_same_origin
from mailsandbox.web.pages import InboxState, page_size
from mailsandbox.web.render import UI, active_tag, get_ui, tag_query

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


async def _message_tags(ui: UI, message_id: str) -> Response:
    visible = ui.visible
    summary, every = await ui.sandbox.db.read(
        lambda conn: (
            messages.get_summary(conn, message_id, visible),
            messages.all_tags(conn, visible),
        )
    )
    if summary is None:
        error = {"error": "This message no longer exists."}
        return ui.page("_check_error.html", error, status_code=404)
    context = {"message_id": message_id, "tags": summary.tags, "all_tags": every}
    return ui.page("_message_tags.html", context)


@router.post("/ui/message/{message_id}/tags")
async def edit_message_tags(
    message_id: str, add: str = Form(""), remove: str = Form(""), ui: UI = Depends(get_ui)
) -> Response:
    """Add (``add``, comma-separated) and/or remove (``remove``) tags on one message."""
    removed = [remove] if remove else []
    await ui.sandbox.mailbox.edit_tags([message_id], add.split(","), removed, ui.visible)
    if ui.request.headers.get("hx-request") != "true":
        return RedirectResponse(f"/view/{message_id}", status_code=303)
    return await _message_tags(ui, message_id)


def _back_to_inbox(ui: UI, old: str, new: str) -> Response:
    """Reload the inbox the request came from; a search for the old tag follows the rename."""
    state = InboxState.from_url(
        ui.request.headers.get("hx-current-url", "/"), page_size(ui.request)
    )
    if active_tag(state.q).lower() == old.lower():
        state = InboxState(tag_query(new) if new else "", state.inbox)
    return Response(status_code=204, headers={"HX-Redirect": state.url()})


def _problem(ui: UI, text: str) -> Response:
    """Say why in the tag dialog (htmx swaps only 2xx answers: retarget instead)."""
    response = ui.page("_check_error.html", {"error": text})
    response.headers["HX-Retarget"] = "#tag-error"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


@router.post("/ui/tags/rename")
async def rename_tag(
    tag: str = Form(...), name: str = Form(...), ui: UI = Depends(get_ui)
) -> Response:
    problem = await api_tags.rename_everywhere(ui.sandbox, tag, name)
    return _problem(ui, problem) if problem else _back_to_inbox(ui, tag, tagging.clean_tag(name))


@router.post("/ui/tags/delete")
async def delete_tag(tag: str = Form(...), ui: UI = Depends(get_ui)) -> Response:
    problem = await api_tags.delete_everywhere(ui.sandbox, tag)
    return _problem(ui, problem) if problem else _back_to_inbox(ui, tag, "")
