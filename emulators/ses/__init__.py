"""Amazon SES emulation: SES v2 (REST JSON under ``/v2/email``), SES v1 and SNS (AWS Query on
``POST /``, told apart by the SigV4 service), events published as signed SNS notifications.

``install(app, sandbox)`` is the entry point the composition root calls: it adds the tables'
migrations, the SNS signing key and certificate (``sandbox.extensions["ses.sns_signer"]``), the
account settings, the error handler and the webhook adapter; ``install_routes(app, sandbox)``
adds the routes (the send paths first, see ``emulators.hot_routes``) at the first request to
SES, Postmark or Resend (``mailsandbox.api.lazy_routes``). The event side (``event_webhooks``,
SNS's messages, the stores) is imported at the first SES message (``emulators.common.lazy_hooks``).
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api import surface_of
from mailsandbox.api.surface import (
    ESP_MANAGE,
    ESP_SEND,
    Family,
    claims_any,
    claims_method_path,
    claims_prefixes,
    rules,
)
from mailsandbox.emulators.common import lazy_hooks
from mailsandbox.emulators.common.errors import install_handler
from mailsandbox.emulators.ses.account import ACCOUNT, Account
from mailsandbox.emulators.ses.aws import LINK_PATH
from mailsandbox.emulators.ses.errors import ERRORS
from mailsandbox.emulators.ses.migrations import MIGRATIONS
from mailsandbox.emulators.ses.sigv4 import enforced_key
from mailsandbox.emulators.ses.sns_signing import CERT_PREFIX, SIGNER, SnsSigner
from mailsandbox.runtime import Sandbox

# SES v2 under /v2/email; SES v1 and SNS as AWS Query POSTs to / (the UI has no POST /); the
# SNS links and signing certificate. The Query protocol mixes sends and management on one
# path, so POST / is served as a send route: with --ui-auth it keeps SigV4's own key check
# (docs/ses.md). Following a SubscribeURL, or fetching the certificate, needs no key, as in SNS.
FAMILY = Family(
    "ses",
    claims_any(
        claims_prefixes("/v2/email/", CERT_PREFIX, exact=("/v2/email", LINK_PATH)),
        claims_method_path(lambda method, path, _headers: path == "/" and method == "POST"),
    ),
    ESP_MANAGE,
    routes=rules(
        ESP_SEND,
        "POST /",
        "POST /v2/email/outbound-emails",
        "POST /v2/email/outbound-bulk-emails",
        f"GET,HEAD {LINK_PATH}",
        f"GET,HEAD {CERT_PREFIX}{{name}}",
    ),
    errors=ERRORS,
    enforced_key=enforced_key,
    label="Amazon SES",
    key_flag="--ses-access-key",
)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach SES's and SNS's tables, signer, error handler and webhook adapter to the app (the
    routes: :func:`install_routes`)."""
    surface_of(app).add(FAMILY)
    sandbox.migrations.extend(MIGRATIONS)
    sandbox.extensions[SIGNER] = SnsSigner(sandbox.settings.data_dir)
    account = Account()
    sandbox.extensions[ACCOUNT] = account

    async def load_account() -> None:
        await sandbox.db.read(account.load)

    sandbox.on_startup.append(load_account)
    sandbox.team.on_changed(ACCOUNT, load_account)  # (changed on another replica)
    install_handler(app)
    # delivery events → SNS notifications
    lazy_hooks.event_webhooks(sandbox, FAMILY.name, f"{__name__}.event_webhooks")


def install_routes(app: FastAPI, sandbox: Sandbox) -> None:
    """Add SES's and SNS's routes (imported here: ``mailsandbox.api.lazy_routes`` calls this at
    the first SES request)."""
    from mailsandbox.emulators.hot_routes import include_first
    from mailsandbox.emulators.ses import (
        query_routes,
        v2_common,
        v2_config,
        v2_send,
        v2_suppressions,
        v2_templates,
    )

    for router in (v2_send.router, query_routes.router):  # the hot paths, matched first
        include_first(app, router, include_in_schema=False)
    for router in (
        v2_templates.router,
        v2_config.router,
        v2_suppressions.router,
        v2_common.fallback,
    ):
        app.include_router(router, include_in_schema=False)
    signer: SnsSigner = sandbox.extensions[SIGNER]
    query_routes.install(app, signer)
