"""The provider emulators' routes, included at the first request that needs them.

Why: importing the five emulators' route modules and building their ~150 routes took ~70 ms of
the sandbox's ~550 ms start (``bench/startup.py``, bench/README.md), and many sandboxes (one
per test session, a sidecar per developer) never receive a provider request. Everything else
of a provider is still installed at start-up, by its ``install()``: its surface family (so
claims, policies and error shapes are known before any route), migrations, signers, webhook
adapters, exception handlers. Only the routes wait.

When: the routes are included before the router sees the first request whose surface family
(the same rule the security layer applies) is one of the providers', and before anything lists
the routes: ``app.routes`` includes them first (:class:`LazyRoutesApp`), and that is what
FastAPI's OpenAPI document (hence ``/api/docs``) and the route-policy tests read. A lock makes
two simultaneous first requests (or a test thread listing routes) include them once.

Same behaviour: the routes are included all at once and land exactly where installing them at
start-up put them: ``install`` runs on a list holding one marker for "the routes the app had
when the providers were installed", so what it puts before the marker (``include_first``, the
root prefixes) goes before those routes and what it appends goes after them and before the
routes added later (the UI, the docs). The route list is then identical, element for element,
to the one start-up used to build, so every request (the first one included) is routed as
before. ``tests/sandbox/api/test_lazy_routes.py`` compares first and second answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from mailsandbox.api.surface import Surface

STATE_KEY = "lazy_routes"


class _Marker(BaseRoute):
    """Stands for the app's routes while ``install`` runs (it is never matched)."""


class LazyRoutes:
    """Routes that ``install(app)`` adds, for requests of ``families`` (names on the surface)."""

    def __init__(
        self,
        app: FastAPI,
        surface: Surface,
        families: Collection[str],
        install: Callable[[FastAPI], None],
    ) -> None:
        self._app = app
        self._surface = surface
        self._families = frozenset(families)
        self._install: Callable[[FastAPI], None] | None = install
        self._before = {id(route) for route in app.router.routes}  # routes at install time
        self._lock = threading.Lock()
        setattr(app.state, STATE_KEY, self)

    @property
    def pending(self) -> bool:
        """Whether the routes are still to be included."""
        return self._install is not None

    def wanted_by(self, scope: Scope) -> bool:
        """Whether the request of ``scope`` (HTTP or WebSocket) belongs to a lazy family."""
        method = scope.get("method", "GET")  # a WebSocket handshake is a GET
        owner = self._surface.resolve(method, scope["path"], Headers(scope=scope))
        return owner is not None and owner[0].name in self._families

    def include(self) -> None:
        """Include the routes now (once; later calls return at once)."""
        if self._install is None:
            return
        with self._lock:
            install, self._install = self._install, None
            if install is None:
                return
            routes = self._app.router.routes
            current = list(routes)
            marker = _Marker()
            routes[:] = [marker]
            try:
                install(self._app)
            finally:
                added = list(routes)
                at = added.index(marker)
                routes[:] = [
                    *added[:at],
                    *(r for r in current if id(r) in self._before),
                    *added[at + 1 :],
                    *(r for r in current if id(r) not in self._before),
                ]


class LazyRoutesMiddleware:
    """Includes the lazy routes before the first request of their families is routed."""

    def __init__(self, app: ASGIApp, lazy: LazyRoutes) -> None:
        self.app = app
        self.lazy = lazy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lazy = self.lazy
        if lazy.pending and scope["type"] in ("http", "websocket") and lazy.wanted_by(scope):
            lazy.include()
        await self.app(scope, receive, send)


class LazyRoutesApp(FastAPI):
    """FastAPI whose ``routes`` are all of them: listing them includes the lazy ones first (the
    OpenAPI document, the docs and the route-policy tests list every route)."""

    @property
    def routes(self) -> list[BaseRoute]:
        # (no state yet while FastAPI.__init__ runs)
        lazy: LazyRoutes | None = getattr(getattr(self, "state", None), STATE_KEY, None)
        if lazy is not None:
            lazy.include()
        return self.router.routes


def install(
    app: FastAPI, surface: Surface, families: Collection[str], routes: Callable[[FastAPI], None]
) -> LazyRoutes:
    """Defer ``routes(app)`` to the first request of ``families`` (or the first route listing)."""
    lazy = LazyRoutes(app, surface, families, routes)
    app.add_middleware(LazyRoutesMiddleware, lazy=lazy)
    return lazy
