"""Mailgun emulation: messages, events and logs, templates, suppressions, webhooks (domain v3
and v4, account), domains, tags and stats.

``install(app, sandbox)`` is the entry point the composition root calls: it adds the template
and tag tables' migrations, the webhook signer (``sandbox.extensions["mailgun.signer"]``), the
error handler for :class:`~.errors.MailgunError` and every route. ``/v3`` domain routes use
the ``mgdomain`` path convertor (a segment with a dot), so they never shadow SendGrid's; the
dotless families (``/v4/...``, ``/v1/analytics/...``, ``/v1/webhooks``) are Mailgun's alone
(esp-contracts.md, "Routing both ESPs on one HTTP port").
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.emulators.hot_routes import include_first
from mailsandbox.emulators.mailgun import (
    account_webhooks,
    domains,
    event_webhooks,
    events_api,
    logs,
    messages,
    stats,
    stored_messages,
    suppressions,
    tag_store,
    tags,
    template_store,
    templates,
    webhooks,
    webhooks_v4,
)
from mailsandbox.emulators.mailgun.errors import MailgunError, handle_mailgun_error
from mailsandbox.emulators.mailgun.signing import MailgunSigner
from mailsandbox.runtime import Sandbox


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach Mailgun's routes, tables and webhook signer to the app."""
    sandbox.migrations.extend([*template_store.MIGRATIONS, *tag_store.MIGRATIONS])
    sandbox.extensions["mailgun.signer"] = MailgunSigner(
        sandbox.settings.mailgun_webhook_signing_key, sandbox.settings.data_dir
    )
    app.add_exception_handler(MailgunError, handle_mailgun_error)
    include_first(app, messages.router, include_in_schema=False)  # the hot path, matched first
    for module in (
        templates,
        events_api,
        suppressions,
        webhooks,
        webhooks_v4,
        account_webhooks,
        stored_messages,
        domains,
        tags,
        stats,
        logs,
    ):
        app.include_router(module.router, include_in_schema=False)
    event_webhooks.register(sandbox)  # delivery events → this ESP's webhooks
