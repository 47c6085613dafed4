"""Amazon SES emulation: SES v2 (REST JSON under ``/v2/email``), SES v1 and SNS (AWS Query on
``POST /``, told apart by the SigV4 service), events published as signed SNS notifications.

``install(app, sandbox)`` is the entry point the composition root calls: it adds the tables'
migrations, the SNS signing key and certificate (``sandbox.extensions["ses.sns_signer"]``), the
account settings, the error handler, the routes (the send paths first, see
``emulators.hot_routes``) and the webhook adapter.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.emulators.common.errors import install_handler
from mailsandbox.emulators.hot_routes import include_first
from mailsandbox.emulators.ses import (
    config_store,
    event_webhooks,
    query_routes,
    sending,
    sns_api,
    sns_store,
    template_store,
    v2_common,
    v2_config,
    v2_send,
    v2_suppressions,
    v2_templates,
)
from mailsandbox.emulators.ses.account import Account
from mailsandbox.emulators.ses.sns_signing import SnsSigner
from mailsandbox.runtime import Sandbox


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach SES's and SNS's routes, tables, signer and webhook adapter to the app."""
    sandbox.migrations.extend(
        [*template_store.MIGRATIONS, *config_store.MIGRATIONS, *sns_store.MIGRATIONS]
    )
    signer = SnsSigner(sandbox.settings.data_dir)
    sandbox.extensions[sns_api.SIGNER] = signer
    account = Account()
    sandbox.extensions[sending.ACCOUNT] = account

    async def load_account() -> None:
        await sandbox.db.read(account.load)

    sandbox.on_startup.append(load_account)
    install_handler(app)
    for router in (v2_send.router, query_routes.router):  # the hot paths, matched first
        include_first(app, router, include_in_schema=False)
    for router in (
        v2_templates.router,
        v2_config.router,
        v2_suppressions.router,
        v2_common.fallback,
    ):
        app.include_router(router, include_in_schema=False)
    query_routes.install(app, signer)
    event_webhooks.register(sandbox, signer, account)  # delivery events → SNS notifications
