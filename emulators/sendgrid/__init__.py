"""SendGrid v3 emulation: ``/v3/mail/send``, batches and scheduled sends, templates,
suppressions and unsubscribe groups, Email Activity, scopes, event webhook settings.

``install(app, sandbox)`` is the only entry point: it registers the routes and the error
handler, adds the tables' migrations (templates, unsubscribe groups, batches), and creates the
webhook signer (``sandbox.extensions["sendgrid.signer"]``) and the optional rate limiter.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.emulators.hot_routes import include_first
from mailsandbox.emulators.sendgrid import (
    activity_api,
    asm_api,
    asm_store,
    batch_api,
    batch_store,
    classifications_api,
    errors,
    event_webhooks,
    mail,
    scopes_api,
    suppressions_api,
    template_store,
    templates_api,
    webhooks_api,
)
from mailsandbox.emulators.sendgrid.auth import RateLimiter, parse_rate
from mailsandbox.emulators.sendgrid.signing import SendGridSigner
from mailsandbox.runtime import Sandbox

SIGNER = "sendgrid.signer"


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach SendGrid's routes, storage and signer to the app."""
    sandbox.migrations.extend(
        [*template_store.MIGRATIONS, *asm_store.MIGRATIONS, *batch_store.MIGRATIONS]
    )
    sandbox.extensions[SIGNER] = SendGridSigner(sandbox.settings.data_dir)
    rate = parse_rate(sandbox.settings.sendgrid_rate_limit)
    if rate is not None:
        sandbox.extensions["sendgrid.rate_limiter"] = RateLimiter(*rate)
    errors.install_handler(app)
    include_first(app, mail.router)  # the hot path: matched before the core API's routes
    for module in (
        templates_api,
        classifications_api,  # before suppressions_api's /v3/suppression/{list}/{email}
        suppressions_api,
        asm_api,
        webhooks_api,
        batch_api,
        activity_api,
        scopes_api,
    ):
        app.include_router(module.router)
    event_webhooks.register(sandbox)  # delivery events → this ESP's webhooks
