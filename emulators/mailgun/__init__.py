"""Mailgun v3 emulation: messages, events, templates, suppressions, webhooks.

``install(app, sandbox)`` is the entry point the composition root calls: it adds the template
tables' migrations, the webhook signer (``sandbox.extensions["mailgun.signer"]``), the
emulators' error handler (for :class:`~.errors.MailgunError`) and every route. Domain routes use
the ``mgdomain`` path convertor (a segment with a dot), so they never shadow SendGrid's.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.emulators.common.errors import install_handler
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
from mailsandbox.emulators.mailgun.signing import MailgunSigner
from mailsandbox.runtime import Sandbox


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach Mailgun's routes, tables and webhook signer to the app."""
    sandbox.migrations.extend(template_store.MIGRATIONS)
    sandbox.extensions["mailgun.signer"] = MailgunSigner(
        sandbox.settings.mailgun_webhook_signing_key, sandbox.settings.data_dir
    )
    install_handler(app)
    include_first(app, messages.router, include_in_schema=False)  # the hot path, matched first
    for module in (templates, events_api, suppressions, webhooks, stored_messages):
        app.include_router(module.router, include_in_schema=False)
    event_webhooks.register(sandbox)  # delivery events → this ESP's webhooks
