"""SendGrid v3 emulation: ``/v3/mail/send``, batches and scheduled sends, templates,
suppressions and unsubscribe groups, Email Activity, scopes, event webhook settings, Inbound
Parse (settings API and the parse POSTs).

``install(app, sandbox)`` registers the error handler, adds the tables' migrations (templates,
unsubscribe groups, batches), and creates the webhook signer
(``sandbox.extensions["sendgrid.signer"]``) and the optional rate limiter;
``install_routes(app)`` adds the routes, at the first request to SendGrid or Mailgun
(``mailsandbox.api.lazy_routes``). The event side (``event_webhooks``) and Inbound Parse
(``inbound_parse``) are imported at the first SendGrid message and the first inbound mail
(``emulators.common.lazy_hooks``); the stores, with the routes that use them.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api import surface_of
from mailsandbox.api.surface import ESP_MANAGE, ESP_SEND, Family, claims_prefixes, rules
from mailsandbox.emulators.common import lazy_hooks
from mailsandbox.emulators.common.errors import install_handler
from mailsandbox.emulators.sendgrid.auth import RateLimiter, enforced_key, parse_rate
from mailsandbox.emulators.sendgrid.errors import ERRORS
from mailsandbox.emulators.sendgrid.migrations import MIGRATIONS
from mailsandbox.emulators.sendgrid.signing import SendGridSigner
from mailsandbox.runtime import Sandbox

SIGNER = "sendgrid.signer"
PARSE = "sendgrid-parse"  # the provider of the parse settings' rows and of the parse POSTs
# Whatever under /v3/ Mailgun does not own (esp-contracts.md, "Routing both ESPs on one port").
FAMILY = Family(
    "sendgrid",
    claims_prefixes("/v3/", exact=("/v3",)),
    ESP_MANAGE,
    routes=rules(ESP_SEND, "POST /v3/mail/send"),
    errors=ERRORS,
    enforced_key=enforced_key,
    fallback=True,
    label="SendGrid",
)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach SendGrid's storage, signer, error handler and webhooks to the app (the routes:
    :func:`install_routes`)."""
    surface_of(app).add(FAMILY)
    sandbox.migrations.extend(MIGRATIONS)
    sandbox.extensions[SIGNER] = SendGridSigner(sandbox.settings.data_dir)
    rate = parse_rate(sandbox.settings.sendgrid_rate_limit)
    if rate is not None:
        sandbox.extensions["sendgrid.rate_limiter"] = RateLimiter(*rate)
    install_handler(app)
    # delivery events → this ESP's webhooks; mail to a parse hostname → the parse webhook
    lazy_hooks.event_webhooks(sandbox, FAMILY.name, f"{__name__}.event_webhooks")
    lazy_hooks.inbound(sandbox, PARSE, f"{__name__}.inbound_parse")


def install_routes(app: FastAPI) -> None:
    """Add SendGrid's routes (imported here: ``mailsandbox.api.lazy_routes`` calls this at the
    first SendGrid request)."""
    from mailsandbox.emulators.hot_routes import include_first
    from mailsandbox.emulators.sendgrid import (
        activity_api,
        asm_api,
        batch_api,
        classifications_api,
        mail,
        parse_api,
        scopes_api,
        suppressions_api,
        templates_api,
        webhooks_api,
    )

    include_first(app, mail.router, tags=["SendGrid"])  # the hot path, matched first
    for module in (
        templates_api,
        classifications_api,  # before suppressions_api's /v3/suppression/{list}/{email}
        suppressions_api,
        asm_api,
        webhooks_api,
        batch_api,
        activity_api,
        scopes_api,
        parse_api,
    ):
        app.include_router(module.router, tags=["SendGrid"])
