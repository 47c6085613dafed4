"""The Rules page (``/ui/rules``): delivery-outcome and SMTP-fault rules managed live (add,
switch on/off, move up/down, delete), the webhook signing keys apps need (with the
django-anymail setting each goes in), the configured webhook endpoints, and the latest webhook
attempts with a replay button.

Same data and validation as ``/api/v1/rules`` and ``/api/v1/webhooks/deliveries``; every form
POST is same-origin only and answers with a redirect back to the page (or the page with the
error, status 400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Form, Response
from fastapi.responses import RedirectResponse

from mailsandbox.api.deps import get_sandbox
from mailsandbox.events import outbox
from mailsandbox.events.access import engine_of
from mailsandbox.events.rules import OUTCOMES, SMTP_STAGES, RuleError, parse_rule
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks
from mailsandbox.web import queries
from mailsandbox.web.guard import local_path, require_same_origin
from mailsandbox.web.render import UI, get_ui

PATH = "/ui/rules"
FORM_FIELDS = ("stage", "recipient", "sender", "subject", "source", "outcome", "reply", "reason")
NUMBER_FIELDS = ("probability", "delay")
router = APIRouter(include_in_schema=False)
actions = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


@dataclass(frozen=True)
class SigningKey:
    """Webhook signing material an app needs, read from an emulator's extension (if installed)."""

    id: str
    label: str
    value: str
    setting: str  # the django-anymail setting that takes it
    hint: str


# (id, extension key, attribute, label, anymail setting, hint)
KEY_SOURCES = (
    (
        "sendgrid-key",
        "sendgrid.signer",
        "public_key_b64",
        "SendGrid signed Event Webhook public key",
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY",
        "Verifies the X-Twilio-Email-Event-Webhook-Signature header of signed SendGrid webhooks"
        " (turn signing on with PATCH /v3/user/webhooks/event/settings/signed).",
    ),
    (
        "mailgun-key",
        "mailgun.signer",
        "key",
        "Mailgun HTTP webhook signing key",
        "MAILGUN_WEBHOOK_SIGNING_KEY",
        "Checks the signature block (HMAC-SHA256 of timestamp + token) of every Mailgun webhook.",
    ),
    (
        "resend-secret",
        "resend.signer",
        "account_secret",
        "Resend webhook signing secret (the --resend-webhook-url webhooks)",
        "RESEND_SIGNING_SECRET",
        "Verifies the svix-signature header (Svix: HMAC-SHA256 of id.timestamp.body); webhooks"
        " created through POST /webhooks have their own secret, returned as signing_secret.",
    ),
)


def signing_keys(sandbox: Sandbox) -> list[SigningKey]:
    """The keys of the installed emulators (core never imports them: looked up by key)."""
    found = []
    for key_id, extension, attribute, label, setting, hint in KEY_SOURCES:
        value = getattr(sandbox.extensions.get(extension), attribute, "")
        found.append(
            SigningKey(key_id, label, value if isinstance(value, str) else "", setting, hint)
        )
    return found


async def _page(ui: UI, error: str = "", status: int = 200) -> Response:
    sandbox = ui.sandbox
    attempts, endpoints = await sandbox.db.read(
        lambda conn: (
            queries.with_event_types(conn, outbox.attempts(conn, limit=50)),
            webhooks.list_endpoints(conn),
        )
    )
    context: dict[str, Any] = {
        "rules": engine_of(sandbox).rules.all(),
        "keys": signing_keys(sandbox),
        "endpoints": [e for e in endpoints if e.url],
        "generic_urls": list(sandbox.settings.webhook_url or []),
        "attempts": attempts,
        "outcomes": OUTCOMES,
        "stages": SMTP_STAGES,
        "error": error,
    }
    return ui.page("rules.html", context, status_code=status)


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
async def rules_page(ui: UI = Depends(get_ui)) -> Response:
    return await _page(ui)


@actions.post(PATH)
async def add_rule(ui: UI = Depends(get_ui)) -> Response:
    form = {k: v for k, v in (await ui.request.form()).items() if isinstance(v, str)}
    try:
        rule = parse_rule(form_rule(form))
    except RuleError as exc:
        return await _page(ui, str(exc), 400)
    await engine_of(ui.sandbox).add_rule(rule)
    return RedirectResponse(PATH, status_code=303)


@actions.post(PATH + "/{rule_id}/delete")
async def delete_rule(rule_id: str, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    await engine_of(sandbox).remove_rule(rule_id)
    return RedirectResponse(PATH, status_code=303)


@actions.post(PATH + "/{rule_id}/enabled")
async def enable_rule(
    rule_id: str, enabled: str = Form(...), sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    """``enabled=1`` switches a rule on, ``enabled=0`` off."""
    await engine_of(sandbox).set_rule_enabled(rule_id, enabled == "1")
    return RedirectResponse(PATH, status_code=303)


@actions.post(PATH + "/{rule_id}/move")
async def move_rule(
    rule_id: str, direction: str = Form(...), sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    """``direction=up`` or ``down``: one place earlier or later in the order rules are tried."""
    engine = engine_of(sandbox)
    order = [r.id for r in engine.rules.all()]
    if rule_id in order and direction in ("up", "down"):
        step = -1 if direction == "up" else 1
        await engine.move_rule(rule_id, max(0, order.index(rule_id) + step))
    return RedirectResponse(PATH, status_code=303)


@actions.post("/ui/webhooks/{outbox_id}/replay")
async def replay(
    outbox_id: str, next: str = Form(""), sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    """Send a webhook again; back to ``next`` (a local path, e.g. the message page) or here."""
    if await sandbox.db.write(lambda conn: outbox.requeue(conn, outbox_id)):
        engine_of(sandbox).dispatcher.wake()
    return RedirectResponse(local_path(next, PATH), status_code=303)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    from mailsandbox.web import add_nav_link

    add_nav_link("Rules & webhooks", PATH)
    app.include_router(router)
    app.include_router(actions)
