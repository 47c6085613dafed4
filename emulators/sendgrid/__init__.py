"""SendGrid v3 emulation: ``/v3/mail/send``, templates, suppressions, event webhook settings.

``install(app, sandbox)`` is the only entry point: it registers the routes and the error
handler, adds the template tables' migrations, and creates the webhook signer
(``sandbox.extensions["sendgrid.signer"]``) and the optional rate limiter.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.emulators.common.errors import install_handler
from mailsandbox.emulators.hot_routes import include_first
from mailsandbox.emulators.sendgrid import (
    event_webhooks,
    mail,
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
    sandbox.migrations.extend(template_store.MIGRATIONS)
    sandbox.extensions[SIGNER] = SendGridSigner(sandbox.settings.data_dir)
    rate = parse_rate(sandbox.settings.sendgrid_rate_limit)
    if rate is not None:
        sandbox.extensions["sendgrid.rate_limiter"] = RateLimiter(*rate)
    install_handler(app)
    include_first(app, mail.router)  # the hot path: matched before the core API's routes
    for router in (templates_api.router, suppressions_api.router, webhooks_api.router):
        app.include_router(router)
    event_webhooks.register(sandbox)  # delivery events → this ESP's webhooks
