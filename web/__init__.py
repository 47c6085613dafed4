"""The web UI: server-rendered HTML (Jinja2 + htmx), live through the core's event stream.

``install(app, sandbox)`` mounts the vendored static files under ``/ui/static``;
``install_routes(app, sandbox)`` registers the page, links-and-codes, action, preview and
live-update routers (at the first UI request: ``mailsandbox.api.lazy_routes``). Add-on pages extend
``web/templates/base.html`` and add themselves to the header with ``add_nav_link``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mailsandbox.api import surface_of
from mailsandbox.api.scoping import scoping_of
from mailsandbox.runtime import Sandbox
from mailsandbox.web.family import NAME, ui_family, ui_scoping
from mailsandbox.web.overview import OVERVIEW_KEY, OverviewCache
from mailsandbox.web.render import NAV_LINKS, RENDERER_KEY, STATIC_DIR, Renderer

FAMILY_NAME = NAME  # the UI's family on the HTTP surface: its first request includes the routes


def add_nav_link(label: str, href: str) -> None:
    """Show a page in the header navigation (idempotent)."""
    if (label, href) not in NAV_LINKS:
        NAV_LINKS.append((label, href))


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Set up the UI's renderer, surface family, scoping, overview cache and static files (the
    routes: :func:`install_routes`)."""
    renderer = sandbox.extensions[RENDERER_KEY] = Renderer()
    surface_of(app).add(ui_family(renderer))
    ui_scoping(scoping_of(app))
    sandbox.extensions[OVERVIEW_KEY] = OverviewCache(sandbox.bus, enabled=not sandbox.team.shared)
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")


def install_routes(app: FastAPI, sandbox: Sandbox) -> None:
    """Add the UI's routes (imported here: ``mailsandbox.api.lazy_routes`` calls this at the
    first request to the UI)."""
    from mailsandbox.web import (
        actions,
        checks,
        extracts,
        inbound,
        inboxes,
        live,
        pages,
        preview,
        release,
        rules,
        suppressions,
        tags,
    )

    routers = (pages.router, extracts.router, actions.router, preview.router, live.router)
    for router in (*routers, checks.router, tags.router, release.router):
        app.include_router(router)
    app.include_router(inbound.router)
    app.include_router(inbound.actions)
    # Add-on pages register here, e.g. ``rules.install(app, sandbox)``.
    rules.install(app, sandbox)
    inboxes.install(app)
    suppressions.install(app, sandbox)
