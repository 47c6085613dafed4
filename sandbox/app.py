"""The composition root: ``create_app(settings)`` builds the one ASGI app the CLI and tests use.

It is the only core module that imports ``web`` and ``emulators``: each add-on exposes
``install(app, sandbox)`` and attaches its routes, migrations and hooks there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mailsandbox import __version__, web
from mailsandbox import events as delivery_events
from mailsandbox.api import build_router, install_security
from mailsandbox.config import Settings
from mailsandbox.emulators import mailgun, postmark, resend, sendgrid, ses
from mailsandbox.runtime import Sandbox

ReadyCallback = Callable[[Sandbox], None]


def create_app(settings: Settings | None = None, on_ready: ReadyCallback | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    sandbox = Sandbox(settings)
    delivery_events.install(sandbox)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await sandbox.start()
        if on_ready is not None:
            on_ready(sandbox)
        try:
            yield
        finally:
            await sandbox.stop()

    app = FastAPI(
        title="mailsandbox",
        version=__version__,
        description=(
            "Local email sandbox: Mailpit-compatible REST API, SendGrid, Mailgun, Amazon SES,"
            " Postmark and Resend emulation."
        ),
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.sandbox = sandbox
    app.include_router(build_router())
    install_security(app, settings.ui_credentials)
    sendgrid.install(app, sandbox)
    mailgun.install(app, sandbox)
    ses.install(app, sandbox)
    postmark.install(app, sandbox)
    resend.install(app, sandbox)
    web.install(app, sandbox)
    return app
