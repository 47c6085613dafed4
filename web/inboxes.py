"""The Inboxes page (``/ui/inboxes``): every inbox with its counts, and the inbox rules.

Same data and checks as ``/api/v1/inboxes`` and ``/api/v1/inbox-rules``; the forms POST
same-origin only and answer with a redirect back to the page (or the page with the error,
status 400).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Form, Response
from fastapi.responses import RedirectResponse

from mailsandbox.api.inboxes import add_rule, delete_rule, inbox_counts
from mailsandbox.inbox_rules import InboxRuleError
from mailsandbox.web.guard import require_same_origin
from mailsandbox.web.render import UI, get_ui

PATH = "/ui/inboxes"
router = APIRouter(include_in_schema=False)
actions = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


async def _page(ui: UI, error: str = "", rule: str = "", status: int = 200) -> Response:
    """The page; a scoped login sees its inboxes, and not the rules (which name others)."""
    sandbox, visible = ui.sandbox, ui.visible
    context = {
        "inboxes": await sandbox.db.read(lambda conn: inbox_counts(conn, visible)),
        "rules": sandbox.mailbox.inbox_rules.rules,
        "scoped": visible is not None,
        "error": error,
        "rule": rule,
    }
    return ui.page("inboxes.html", context, status_code=status)


@router.get(PATH)
async def inboxes_page(ui: UI = Depends(get_ui)) -> Response:
    return await _page(ui)


@actions.post(PATH + "/rules")
async def add(rule: str = Form(""), ui: UI = Depends(get_ui)) -> Response:
    try:
        await add_rule(ui.sandbox, rule)
    except InboxRuleError as exc:
        return await _page(ui, str(exc), rule, 400)
    return RedirectResponse(PATH, status_code=303)


@actions.post(PATH + "/rules/{rule_id}/delete")
async def delete(rule_id: str, ui: UI = Depends(get_ui)) -> Response:
    await delete_rule(ui.sandbox, rule_id)
    return RedirectResponse(PATH, status_code=303)


def install(app: FastAPI) -> None:
    from mailsandbox.web import add_nav_link

    add_nav_link("Inboxes", PATH)
    app.include_router(router)
    app.include_router(actions)
