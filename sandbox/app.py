"""The composition root: ``create_app(settings)`` builds the one ASGI app the CLI and tests use.

It is the only core module that imports ``web`` and ``emulators``: each add-on exposes
``install(app, sandbox)`` and attaches its routes, migrations and hooks there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mailsandbox import __version__, inbound, pop3, relay, web
from mailsandbox import events as delivery_events
from mailsandbox.api import include_routers, install_http
from mailsandbox.api.checks import install as install_checks
from mailsandbox.api.docs import install_openapi
from mailsandbox.api.lazy_routes import LazyRoutesApp, lazy_routes_of
from mailsandbox.config import Settings
from mailsandbox.emulators import mailgun, postmark, resend, sendgrid, ses
from mailsandbox.runtime import Sandbox


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    sandbox = Sandbox(settings)
    delivery_events.install(sandbox)
    inbound.install(sandbox)  # after the engine: its outbox delivers what routing writes
    install_checks(sandbox)
    relay.install(sandbox)
    pop3.install(sandbox)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Under ``runner.SandboxServer`` the sandbox is started already (both are no-ops
        # then); under any other ASGI server the lifespan starts and stops it.
        await sandbox.start()
        try:
            yield
        finally:
            await sandbox.stop()

    app = LazyRoutesApp(
        title="mailsandbox",
        version=__version__,
        description=(
            "Local email sandbox: Mailpit-compatible REST API, SendGrid, Mailgun, Amazon SES,"
            " Postmark and Resend emulation. Live changes also stream over Mailpit's WebSocket,"
            " `GET /api/events`."
        ),
        lifespan=lifespan,
        docs_url=None,  # served by api/docs.py from vendored files, so it works offline
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.sandbox = sandbox
    include_routers(app)
    install_http(app, settings)
    for emulator in (sendgrid, mailgun, ses, postmark, resend):
        emulator.install(app, sandbox)

    # The providers' and the UI's routes wait for their first request (~100 ms of every start,
    # measured: bench/README.md) and land where installing them here would have put them.
    # Providers whose paths meet come together: SendGrid and Mailgun under /v3; SES (POST /),
    # Postmark and Resend at the root (their hot routes interleave at the front of the table).
    def v3_routes(app: FastAPI) -> None:
        sendgrid.install_routes(app)
        mailgun.install_routes(app)

    def root_routes(app: FastAPI) -> None:
        ses.install_routes(app, sandbox)
        postmark.install_routes(app)
        resend.install_routes(app)

    lazy = lazy_routes_of(app)
    lazy.add([sendgrid.FAMILY.name, mailgun.FAMILY.name], v3_routes)
    lazy.add([ses.FAMILY.name, postmark.FAMILY.name, resend.FAMILY.name], root_routes)
    web.install(app, sandbox)
    lazy.add([web.FAMILY_NAME], lambda app: web.install_routes(app, sandbox))
    install_openapi(app)
    return app
