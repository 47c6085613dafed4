"""Routes included at the first request that needs them: the provider emulators', the web UI's.

Why: importing their modules and building their routes took ~100 ms of CPU of the sandbox's
~525 ms start (``bench/startup.py``, bench/README.md), and many sandboxes never serve them: a
pytest session uses the REST API and perhaps one provider, a CI job may never open the UI.
Everything else of those add-ons is still installed at start-up by their ``install()``: surface
families (so claims, policies and error shapes are known before any route), migrations,
signers, exception handlers, static files. Only the routes wait here; the providers' webhook
adapters and inbound routers are registered at start-up and imported at their first message
(``emulators/common/lazy_hooks.py``).

When: a unit of routes is included before the router sees the first request whose surface
family is one of the unit's (the middleware runs inside the security guards, which record the
family they matched; a request they refuse includes nothing), and before anything lists the
routes: ``app.routes`` includes every unit first (:class:`LazyRoutesApp`), and that is
what FastAPI's OpenAPI document (hence ``/api/docs``) and the route-policy tests read. A lock
makes two simultaneous first requests (or a test thread listing routes) include a unit once.
Requests include units in the server's event loop, between two routings. Listing ``app.routes``
from another thread (tests do, before they send requests) changes the table in that thread: a
request routed at that very moment could miss a route, so list from the loop or before serving.

Same behaviour: a unit's routes land exactly where installing them at start-up put them.
``install`` runs on a list holding one marker that stands for the routes the app had then: what
it puts before the marker (``include_first``, the providers' root prefixes) goes in front of
those, what it appends goes after them and before the routes added after the unit was
registered. Whatever the units included so far, the route list is the one start-up would have
built with those units, element for element; so every request, the first one included, is
routed as before. ``tests/sandbox/api/test_lazy_routes.py`` compares first and later answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from fastapi import FastAPI
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from mailsandbox.api.surface import family_of

STATE_KEY = "lazy_routes"
Install = Callable[[FastAPI], None]


class _Marker(BaseRoute):
    """Stands for the app's routes while a unit's ``install`` runs (it is never matched)."""


@dataclass
class _Unit:
    families: frozenset[str]
    install: Install | None  # None once included
    before: frozenset[int]  # ids of the app's routes when the unit was registered
    front: list[BaseRoute] = field(default_factory=list)  # put before those routes
    back: list[BaseRoute] = field(default_factory=list)  # appended after them


class LazyRoutes:
    """The lazily included route units of one app (``app.state.lazy_routes``)."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._units: list[_Unit] = []
        self._lock = threading.Lock()
        self.pending = False  # whether some unit is still to be included

    @property
    def units(self) -> tuple[_Unit, ...]:
        return tuple(self._units)

    def add(self, families: Collection[str], install: Install) -> None:
        """Defer ``install(app)`` (which adds routes, nothing else) to the first request of one
        of ``families`` (names on the surface)."""
        before = frozenset(id(route) for route in self._app.router.routes)
        self._units.append(_Unit(frozenset(families), install, before))
        self.pending = True

    def wanted_by(self, scope: Scope) -> list[_Unit]:
        """The units not included yet that serve the request of ``scope`` (its family was
        recorded by the security guards)."""
        family = family_of(scope)
        name = family.name if family is not None else None
        return [u for u in self._units if u.install is not None and name in u.families]

    def include(self, units: Collection[_Unit] | None = None) -> None:
        """Include ``units`` (default: all) now; a unit already included is left as it is."""
        with self._lock:
            for unit in self._units if units is None else units:
                if unit.install is not None:
                    self._include(unit, unit.install)
            self.pending = any(unit.install is not None for unit in self._units)

    def _include(self, unit: _Unit, install: Install) -> None:
        routes = self._app.router.routes
        current = list(routes)
        marker = _Marker()
        routes[:] = [marker]
        try:
            install(self._app)
        finally:
            at = routes.index(marker)
            unit.front, unit.back, unit.install = routes[:at], routes[at + 1 :], None
            routes[:] = current
            self._rebuild()

    def _rebuild(self) -> None:
        """Lay the routes out as start-up would have with the units included so far: the last
        unit's front routes first, then the app's routes with each unit's back routes after
        those that were there when it was registered."""
        routes = self._app.router.routes
        included = [u for u in self._units if u.install is None]
        theirs = {id(r) for u in included for r in (*u.front, *u.back)}
        # The app's own routes, by the number of units registered before each was added.
        segments: list[list[BaseRoute]] = [[] for _ in range(len(self._units) + 1)]
        for route in routes:
            if id(route) not in theirs:
                segments[sum(id(route) not in u.before for u in self._units)].append(route)
        laid_out = [r for u in reversed(included) for r in u.front]
        for n, segment in enumerate(segments):
            laid_out += segment
            if n < len(self._units) and self._units[n].install is None:
                laid_out += self._units[n].back
        routes[:] = laid_out


class LazyRoutesMiddleware:
    """Includes the units a request needs before the router sees it."""

    def __init__(self, app: ASGIApp, lazy: LazyRoutes) -> None:
        self.app = app
        self.lazy = lazy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lazy = self.lazy
        if lazy.pending and scope["type"] in ("http", "websocket"):
            wanted = lazy.wanted_by(scope)
            if wanted:
                lazy.include(wanted)
        await self.app(scope, receive, send)


class LazyRoutesApp(FastAPI):
    """FastAPI whose ``routes`` are all of them: listing them includes the lazy ones first (the
    OpenAPI document, the docs and the route-policy tests list every route)."""

    @property
    def routes(self) -> list[BaseRoute]:
        # (no state yet while FastAPI.__init__ runs)
        lazy: LazyRoutes | None = getattr(getattr(self, "state", None), STATE_KEY, None)
        if lazy is not None and lazy.pending:
            lazy.include()
        return self.router.routes


def install(app: FastAPI) -> LazyRoutes:
    """Set up the app's lazy routes: call it before the security guards are installed, so that
    its middleware runs inside them (``mailsandbox.api.families.install`` does)."""
    lazy = LazyRoutes(app)
    setattr(app.state, STATE_KEY, lazy)
    app.add_middleware(LazyRoutesMiddleware, lazy=lazy)
    return lazy


def lazy_routes_of(app: FastAPI) -> LazyRoutes:
    """The app's lazy routes (set up by :func:`install`)."""
    lazy: LazyRoutes = getattr(app.state, STATE_KEY)
    return lazy
