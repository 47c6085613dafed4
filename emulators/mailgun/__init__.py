"""Mailgun emulation: messages, events and logs, templates, suppressions, webhooks (domain v3
and v4, account), domains, tags and stats, routes (inbound).

``install(app, sandbox)`` is the entry point the composition root calls: it adds the template
and tag tables' migrations, the webhook signer (``sandbox.extensions["mailgun.signer"]``) and
the emulators' error handler (for :class:`~.errors.MailgunError`); ``install_routes(app)`` adds
every route, at the first request to Mailgun or SendGrid (``mailsandbox.api.lazy_routes``).
The event side (``event_webhooks``) and the Routes' delivery (``route_delivery``) are imported at
the first Mailgun message and the first inbound mail (``emulators.common.lazy_hooks``).
``/v3`` domain routes use the ``mgdomain`` path convertor (a segment with a dot), so they never
shadow SendGrid's; the dotless families (``/v4/...``, ``/v1/analytics/...``, ``/v1/webhooks``) are
Mailgun's alone (esp-contracts.md, "Routing both ESPs on one HTTP port").
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api import surface_of
from mailsandbox.api.surface import ESP_MANAGE, ESP_SEND, Family, claims_pattern, rules
from mailsandbox.emulators.common import lazy_hooks
from mailsandbox.emulators.common.errors import install_handler
from mailsandbox.emulators.mailgun.auth import enforced_key
from mailsandbox.emulators.mailgun.errors import ERRORS
from mailsandbox.emulators.mailgun.migrations import MIGRATIONS
from mailsandbox.emulators.mailgun.signing import MailgunSigner
from mailsandbox.runtime import Sandbox

ROUTE = "mailgun-route"  # the provider of the Routes' rows and of their actions' deliveries

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
    """Attach Mailgun's tables, webhook signer, error handler and webhooks to the app (the
    routes: :func:`install_routes`)."""
    surface_of(app).add(FAMILY)
    sandbox.migrations.extend(MIGRATIONS)
    signer = MailgunSigner(sandbox.settings.mailgun_webhook_signing_key, sandbox.settings.data_dir)
    sandbox.extensions["mailgun.signer"] = signer
    install_handler(app)
    # delivery events → this ESP's webhooks; inbound mail → the routes' actions
    lazy_hooks.event_webhooks(sandbox, FAMILY.name, f"{__name__}.event_webhooks")
    lazy_hooks.inbound(sandbox, ROUTE, f"{__name__}.route_delivery")


def install_routes(app: FastAPI) -> None:
    """Add Mailgun's routes (imported here: ``mailsandbox.api.lazy_routes`` calls this at the
    first Mailgun request)."""
    from mailsandbox.emulators.hot_routes import include_first
    from mailsandbox.emulators.mailgun import (
        account_webhooks,
        domains,
        events_api,
        logs,
        messages,
        routes_api,
        stats,
        stored_messages,
        suppressions,
        tags,
        templates,
        webhooks,
        webhooks_v4,
    )

    include_first(app, messages.router, tags=["Mailgun"])  # the hot path, matched first
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
        routes_api,
    ):
        app.include_router(module.router, tags=["Mailgun"])
