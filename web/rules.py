"""The Rules page (``/ui/rules``): delivery-outcome and SMTP-fault rules managed live, the
webhook signing keys apps need, and the latest webhook attempts with a replay button.

Same data and validation as ``/api/v1/rules`` and ``/api/v1/webhooks/deliveries``; every form
POST is same-origin only and answers with a redirect back to the page (or the page with the
error, status 400).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from sandbox.api.deps import get_sandbox
from sandbox.events import outbox
from sandbox.events.access import engine_of
from sandbox.events.rules import OUTCOMES, SMTP_STAGES, RuleError, parse_rule
from sandbox.runtime import Sandbox
from web.guard import require_same_origin
from web.render import Renderer, get_renderer

PATH = "/ui/rules"
FORM_FIELDS = ("stage", "recipient", "sender", "subject", "source", "outcome", "reply", "reason")
NUMBER_FIELDS = ("probability", "delay")
router = APIRouter(include_in_schema=False)
actions = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


def _keys(sandbox: Sandbox) -> dict[str, str]:
    sendgrid = sandbox.extensions.get("sendgrid.signer")
    mailgun = sandbox.extensions.get("mailgun.signer")
    return {
        "SendGrid Event Webhook public key": getattr(sendgrid, "public_key_b64", ""),
        "Mailgun webhook signing key": getattr(mailgun, "key", ""),
    }


async def _page(
    request: Request, sandbox: Sandbox, renderer: Renderer, error: str = "", status: int = 200
) -> Response:
    attempts = await sandbox.db.read(lambda conn: outbox.attempts(conn, limit=50))
    context: dict[str, Any] = {
        "rules": engine_of(sandbox).rules.all(),
        "keys": _keys(sandbox),
        "attempts": attempts,
        "outcomes": OUTCOMES,
        "stages": SMTP_STAGES,
        "error": error,
    }
    return renderer.page(request, "rules.html", context, status_code=status)


def form_rule(form: dict[str, str]) -> dict[str, Any]:
    """The rule JSON a submitted form describes (empty fields left out)."""
    data: dict[str, Any] = {k: form[k].strip() for k in FORM_FIELDS if form.get(k, "").strip()}
    for name in NUMBER_FIELDS:
        text = form.get(name, "").strip()
        if text:
            try:
                data[name] = float(text)
            except ValueError:
                raise RuleError(f"{name} must be a number") from None
    if data.get("stage", "delivery") == "delivery":
        data.pop("reply", None)
    else:
        data.pop("outcome", None)
    return data


@router.get(PATH)
async def rules_page(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> Response:
    return await _page(request, sandbox, renderer)


@actions.post(PATH)
async def add_rule(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        rule = parse_rule(form_rule(form))
    except RuleError as exc:
        return await _page(request, sandbox, renderer, str(exc), 400)
    await engine_of(sandbox).add_rule(rule)
    return RedirectResponse(PATH, status_code=303)


@actions.post(PATH + "/{rule_id}/delete")
async def delete_rule(rule_id: str, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    await engine_of(sandbox).remove_rule(rule_id)
    return RedirectResponse(PATH, status_code=303)


@actions.post("/ui/webhooks/{outbox_id}/replay")
async def replay(outbox_id: str, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    if await sandbox.db.write(lambda conn: outbox.requeue(conn, outbox_id)):
        engine_of(sandbox).dispatcher.wake()
    return RedirectResponse(PATH, status_code=303)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    from web import add_nav_link

    add_nav_link("Rules & webhooks", PATH)
    app.include_router(router)
    app.include_router(actions)
