"""Resend emulation at the root, as on api.resend.com: ``/emails`` (send, batch, get, list,
reschedule, cancel), ``/templates``, ``/domains``, ``/api-keys`` and ``/webhooks``, events
POSTed Svix-signed.

``install(app, sandbox)`` is the entry point the composition root calls: it adds the tables'
migrations, the Svix signer (``sandbox.extensions["resend.signer"]``: the account secret and
each webhook's), the idempotency keys, the emulators' error handler, its family on the HTTP
surface (route policies, error shape; ``/templates`` and ``/webhooks`` are shared with Postmark
and are Resend's unless the request carries Postmark's token header) and the webhook adapter;
``install_routes(app)`` adds the routes (ahead of the app's other routes, see
:mod:`~mailsandbox.emulators.common.routing`) at the first request to Resend, Postmark or SES
(``mailsandbox.api.lazy_routes``). The event side (``event_webhooks``) is imported at the first
Resend message (``emulators.common.lazy_hooks``).
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api import surface_of
from mailsandbox.api.surface import ESP_MANAGE, ESP_SEND, Family, rules
from mailsandbox.emulators.common import lazy_hooks, routing
from mailsandbox.emulators.common.errors import install_handler
from mailsandbox.emulators.resend import idempotency, resources, svix
from mailsandbox.emulators.resend.errors import ERRORS
from mailsandbox.emulators.resend.migrations import MIGRATIONS
from mailsandbox.emulators.resend.wire import PATHS, TEAM_TOPIC, enforced_key
from mailsandbox.runtime import Sandbox

# A fallback family: tried after the others, so Postmark's claims the shared paths (/templates,
# /webhooks) first for requests with its token header; the rest of them are Resend's. Sends keep
# Resend's own key check under --ui-auth; everything else then needs a key it enforces.
FAMILY = Family(
    "resend",
    routing.claims_root(PATHS),
    ESP_MANAGE,
    routes=rules(ESP_SEND, "POST /emails", "POST /emails/batch"),
    errors=ERRORS,
    enforced_key=enforced_key,
    fallback=True,
    label="Resend",
)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach Resend's tables, signer, error handler and webhook adapter to the app (the
    routes: :func:`install_routes`)."""
    surface_of(app).add(FAMILY)
    sandbox.migrations.extend(MIGRATIONS)
    signer = svix.Signer(sandbox.settings.resend_webhook_secret, sandbox.settings.data_dir)
    sandbox.extensions[svix.EXTENSION] = signer
    sandbox.extensions[idempotency.EXTENSION] = idempotency.Keys(sandbox)

    async def load() -> None:
        await svix.load_secrets(sandbox)
        await resources.load_keys(sandbox)

    sandbox.on_startup.append(load)
    sandbox.team.on_changed(TEAM_TOPIC, load)  # (changed on another replica)
    install_handler(app)
    # delivery events → Resend's webhooks
    lazy_hooks.event_webhooks(sandbox, FAMILY.name, f"{__name__}.event_webhooks")


def install_routes(app: FastAPI) -> None:
    """Add Resend's routes (imported here: ``mailsandbox.api.lazy_routes`` calls this at the
    first Resend request)."""
    from mailsandbox.emulators.resend import account_api, emails_api, templates_api, webhooks_api

    endpoints = [*emails_api.ROUTES, *account_api.ROUTES, *templates_api.ROUTES]
    routing.install(app, routing.RootRoutes("resend", PATHS, [*endpoints, *webhooks_api.ROUTES]))
