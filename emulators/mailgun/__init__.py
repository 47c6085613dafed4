"""Mailgun v3 emulation: messages, events, templates, suppressions, webhooks.

``install(app, sandbox)`` is the entry point the composition root calls: it adds the template
tables' migrations, the webhook signer (``sandbox.extensions["mailgun.signer"]``), the error
handler for :class:`~.errors.MailgunError` and every route. Domain routes use
the ``mgdomain`` path convertor (a segment with a dot), so they never shadow SendGrid's.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api import surface_of
from mailsandbox.api.surface import ESP_MANAGE, ESP_SEND, Family, claims_pattern, rules
from mailsandbox.emulators.hot_routes import include_first
from mailsandbox.emulators.mailgun import (
    event_webhooks,
    events_api,
    messages,
    stored_messages,
    suppressions,
    template_store,
    templates,
    webhooks,
)
from mailsandbox.emulators.mailgun.auth import enforced_key
from mailsandbox.emulators.mailgun.errors import ERRORS, MailgunError, handle_mailgun_error
from mailsandbox.emulators.mailgun.signing import MailgunSigner
from mailsandbox.runtime import Sandbox

# A /v3/ segment with a dot is a domain; plus Mailgun's dotless account-level families
# (esp-contracts.md, "Routing both ESPs on one HTTP port").
FAMILY = Family(
    "mailgun",
    claims_pattern(
        r"/v3/(?:[^/]*\.[^/]*|domains|routes|lists)(?:/|$)|/v[45](?:/|$)|/v1/(?:analytics|webhooks)(?:/|$)"
    ),
    ESP_MANAGE,
    routes=rules(
        ESP_SEND, "POST /v3/{domain:mgdomain}/messages", "POST /v3/{domain:mgdomain}/messages.mime"
    ),
    errors=ERRORS,
    enforced_key=enforced_key,
    label="Mailgun",
)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach Mailgun's routes, tables and webhook signer to the app."""
    surface_of(app).add(FAMILY)
    sandbox.migrations.extend(template_store.MIGRATIONS)
    sandbox.extensions["mailgun.signer"] = MailgunSigner(
        sandbox.settings.mailgun_webhook_signing_key, sandbox.settings.data_dir
    )
    app.add_exception_handler(MailgunError, handle_mailgun_error)
    include_first(app, messages.router, tags=["Mailgun"])  # the hot path, matched first
    for module in (templates, events_api, suppressions, webhooks, stored_messages):
        app.include_router(module.router, tags=["Mailgun"])
    event_webhooks.register(sandbox)  # delivery events → this ESP's webhooks
