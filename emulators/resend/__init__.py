"""Resend emulation at the root, as on api.resend.com: ``/emails`` (send, batch, get, list,
reschedule, cancel), ``/templates``, ``/domains``, ``/api-keys`` and ``/webhooks``, events
POSTed Svix-signed.

``install(app, sandbox)`` is the entry point the composition root calls: it adds the tables'
migrations, the Svix signer (``sandbox.extensions["resend.signer"]``: the account secret and
each webhook's), the idempotency keys, the emulators' error handler, the routes (one
:class:`~mailsandbox.emulators.common.routing.Family` ahead of the app's other routes;
``/templates`` and ``/webhooks`` are shared with Postmark and are Resend's unless the request
carries Postmark's token header) and the webhook adapter.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api.security import RESEND_PATHS
from mailsandbox.emulators.common import routing
from mailsandbox.emulators.common.errors import install_handler
from mailsandbox.emulators.resend import (
    account_api,
    emails_api,
    event_webhooks,
    idempotency,
    svix,
    templates_api,
    webhooks_api,
)
from mailsandbox.emulators.resend.errors import unknown_path
from mailsandbox.runtime import Sandbox

FAMILY = routing.Family(
    "resend",
    RESEND_PATHS,  # the paths the security layer exempts from --ui-auth with a Bearer key
    [*emails_api.ROUTES, *account_api.ROUTES, *templates_api.ROUTES, *webhooks_api.ROUTES],
    unknown_path,
)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach Resend's routes, tables, signer and webhook adapter to the app."""
    sandbox.migrations.extend([*idempotency.MIGRATIONS, *account_api.MIGRATIONS])
    signer = svix.Signer(sandbox.settings.resend_webhook_secret, sandbox.settings.data_dir)
    sandbox.extensions[svix.EXTENSION] = signer
    sandbox.extensions[idempotency.EXTENSION] = idempotency.Keys(sandbox)

    async def load() -> None:
        await webhooks_api.load_secrets(sandbox)
        await account_api.load_keys(sandbox)

    sandbox.on_startup.append(load)
    install_handler(app)
    routing.install(app, FAMILY)
    event_webhooks.register(sandbox, signer)  # delivery events → Resend's webhooks
