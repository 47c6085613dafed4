"""Postmark emulation at the root, as on api.postmarkapp.com: sends (``/email...``), templates,
bounces, message streams and their suppressions, outbound messages, webhooks.

``install(app, sandbox)`` is the entry point the composition root calls: it adds the tables'
migrations, the streams (in memory for the send path, loaded at start), the emulators' error
handler, its family on the HTTP surface (route policies, error shape; ``/templates`` and
``/webhooks`` are shared with Resend and are Postmark's when the request carries
``X-Postmark-Server-Token``) and the webhook adapter; ``install_routes(app)`` adds the routes
(ahead of the app's other routes, see :mod:`~mailsandbox.emulators.common.routing`) at the
first request to Postmark, Resend or SES (``mailsandbox.api.lazy_routes``). The event side
(``event_webhooks``) is imported at the first Postmark message (``emulators.common.lazy_hooks``).
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api import surface_of
from mailsandbox.api.surface import ESP_MANAGE, ESP_SEND, Family, claims_any, rules
from mailsandbox.emulators.common import lazy_hooks, routing
from mailsandbox.emulators.common.errors import install_handler
from mailsandbox.emulators.postmark.errors import ERRORS
from mailsandbox.emulators.postmark.migrations import MIGRATIONS
from mailsandbox.emulators.postmark.stream_store import EXTENSION, Streams
from mailsandbox.emulators.postmark.wire import PATHS, SHARED_PATHS, claims_shared, enforced_key
from mailsandbox.runtime import Sandbox

# Its own paths, and the shared ones when the request carries X-Postmark-Server-Token (else
# they are Resend's). Sends keep Postmark's own token check under --ui-auth; everything else
# (templates, bounces, streams, messages, webhooks) then needs a token it enforces.
FAMILY = Family(
    "postmark",
    claims_any(routing.claims_root(PATHS), claims_shared),
    ESP_MANAGE,
    routes=rules(
        ESP_SEND,
        "POST /email",
        "POST /email/batch",
        "POST /email/batch/",
        "POST /email/withTemplate",
        "POST /email/withTemplate/",
        "POST /email/batchWithTemplates",
        "POST /email/batchWithTemplates/",
    ),
    errors=ERRORS,
    enforced_key=enforced_key,
    label="Postmark",
    key_flag="--postmark-server-token",
)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach Postmark's tables, error handler and webhook adapter to the app (the routes:
    :func:`install_routes`)."""
    surface_of(app).add(FAMILY)
    sandbox.migrations.extend(MIGRATIONS)
    cache = Streams(sandbox)
    sandbox.extensions[EXTENSION] = cache
    sandbox.on_startup.append(cache.load)
    sandbox.team.on_changed(EXTENSION, cache.load)  # (changed on another replica)
    install_handler(app)
    # delivery events → Postmark's webhooks
    lazy_hooks.event_webhooks(sandbox, FAMILY.name, f"{__name__}.event_webhooks")


def install_routes(app: FastAPI) -> None:
    """Add Postmark's routes (imported here: ``mailsandbox.api.lazy_routes`` calls this at the
    first Postmark request)."""
    from mailsandbox.emulators.postmark import (
        bounces_api,
        email_api,
        messages_api,
        streams,
        templates_api,
        webhooks_api,
    )

    table = routing.RootRoutes(
        "postmark",
        (*PATHS, *SHARED_PATHS),
        [
            *email_api.ROUTES,
            *templates_api.ROUTES,
            *bounces_api.ROUTES,
            *streams.ROUTES,
            *messages_api.ROUTES,
            *webhooks_api.ROUTES,
        ],
    )
    routing.install(app, table)
