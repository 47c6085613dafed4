"""Postmark emulation at the root, as on api.postmarkapp.com: sends (``/email...``), templates,
bounces, message streams and their suppressions, outbound messages, webhooks.

``install(app, sandbox)`` is the entry point the composition root calls: it adds the tables'
migrations, the streams (in memory for the send path, loaded at start), the emulators' error
handler, the routes (one :class:`~mailsandbox.emulators.common.routing.Family`, ahead of the
app's other routes; ``/webhooks`` is shared with Resend and is Postmark's when the request
carries ``X-Postmark-Server-Token``) and the webhook adapter.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api.security import POSTMARK_PATHS
from mailsandbox.emulators.common import routing
from mailsandbox.emulators.common.errors import install_handler
from mailsandbox.emulators.postmark import (
    bounces_api,
    email_api,
    event_webhooks,
    messages_api,
    streams,
    templates,
    templates_api,
    webhooks_api,
)
from mailsandbox.emulators.postmark.errors import unknown_path
from mailsandbox.emulators.postmark.wire import claims
from mailsandbox.runtime import Sandbox

FAMILY = routing.Family(
    "postmark",
    POSTMARK_PATHS,  # the paths the security layer exempts from --ui-auth with the token
    [
        *email_api.ROUTES,
        *templates_api.ROUTES,
        *bounces_api.ROUTES,
        *streams.ROUTES,
        *messages_api.ROUTES,
        *webhooks_api.ROUTES,
    ],
    unknown_path,
    claims=claims,
)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach Postmark's routes, tables and webhook adapter to the app."""
    sandbox.migrations.extend([*streams.MIGRATIONS, *templates.MIGRATIONS])
    cache = streams.Streams(sandbox)
    sandbox.extensions[streams.EXTENSION] = cache
    sandbox.on_startup.append(cache.load)
    install_handler(app)
    routing.install(app, FAMILY)
    event_webhooks.register(sandbox)  # delivery events → Postmark's webhooks
