"""SendGrid v3 emulation: ``/v3/mail/send``, templates, suppressions, event webhook settings.

``install(app, sandbox)`` is the only entry point: it registers the routes and the error
handler, adds the template tables' migrations, and creates the webhook signer
(``sandbox.extensions["sendgrid.signer"]``) and the optional rate limiter.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api import surface_of
from mailsandbox.api.surface import ESP_MANAGE, ESP_SEND, Family, claims_prefixes, rules
from mailsandbox.emulators.hot_routes import include_first
from mailsandbox.emulators.sendgrid import (
    errors,
    event_webhooks,
    mail,
    suppressions_api,
    template_store,
    templates_api,
    webhooks_api,
)
from mailsandbox.emulators.sendgrid.auth import RateLimiter, enforced_key, parse_rate
from mailsandbox.emulators.sendgrid.signing import SendGridSigner
from mailsandbox.runtime import Sandbox

SIGNER = "sendgrid.signer"
# Whatever under /v3/ Mailgun does not own (esp-contracts.md, "Routing both ESPs on one port").
FAMILY = Family(
    "sendgrid",
    claims_prefixes("/v3/", exact=("/v3",)),
    ESP_MANAGE,
    routes=rules(ESP_SEND, "POST /v3/mail/send"),
    errors=errors.ERRORS,
    enforced_key=enforced_key,
    fallback=True,
    label="SendGrid",
)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach SendGrid's routes, storage and signer to the app."""
    surface_of(app).add(FAMILY)
    sandbox.migrations.extend(template_store.MIGRATIONS)
    sandbox.extensions[SIGNER] = SendGridSigner(sandbox.settings.data_dir)
    rate = parse_rate(sandbox.settings.sendgrid_rate_limit)
    if rate is not None:
        sandbox.extensions["sendgrid.rate_limiter"] = RateLimiter(*rate)
    errors.install_handler(app)
    include_first(app, mail.router, tags=["SendGrid"])  # the hot path, matched first
    for router in (templates_api.router, suppressions_api.router, webhooks_api.router):
        app.include_router(router, tags=["SendGrid"])
    event_webhooks.register(sandbox)  # delivery events → this ESP's webhooks
