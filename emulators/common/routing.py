"""Serving a provider's paths at the root of the sandbox: its routes, and paths two providers
share.

Postmark (``/email``, ``/templates``, ``/bounces``...) and Resend (``/emails``, ``/domains``...)
live at the root, as on their own hosts (esp-contracts.md, routing section). Each declares its
:class:`RootRoutes`: path prefixes and a table of ``(methods, path template, endpoint)`` routes
whose endpoints take only the ``Request`` and return a ``Response``.

Who owns a request is decided once, by the HTTP surface (``mailsandbox.api.surface``): each
provider also adds a surface ``Family`` whose claims cover the same prefixes, and where two
providers share a prefix (``/templates``, ``/webhooks``) the family's claim reads the
request's credentials. The security layer records the family it matched in the request's scope
(:func:`~mailsandbox.api.surface.family_of`), and the routes here follow it, so the two can never
disagree. A path of a provider's prefixes that no route serves is a 404, and one served with
other methods a 405, raised as ``HTTPException``: ``mailsandbox.api.error_shapes`` answers both
in that family's shape, never FastAPI's ``{"detail": ...}``.

:func:`install` puts one :class:`PrefixRoute` per prefix in front of the app's routes (right
after the other emulators' direct send routes, ``hot_routes``): it claims every path under its
prefix and nothing else (the prefixes collide with no route of the core or the UI), so a request
is matched with one string comparison before the per-route regular expressions, which keeps the
send paths as short as SendGrid's direct routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, compile_path, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from mailsandbox.api.surface import Claim, claims_prefixes, family_of
from mailsandbox.emulators.hot_routes import DirectRoute

Endpoint = Callable[[Request], Awaitable[Response]]
STATE_KEY = "emulator_root_routes"


def claims_root(prefixes: Sequence[str]) -> Claim:
    """A surface claim on ``prefixes`` as :class:`PrefixRoute` matches them: each ``/name`` and
    what follows a ``/`` after it (``/email`` claims ``/email/batch``, not ``/emails``)."""
    return claims_prefixes(*(f"{p}/" for p in prefixes), exact=tuple(prefixes))


@dataclass
class _Compiled:
    methods: frozenset[str]
    template: str
    regex: Any
    convertors: dict[str, Any]
    app: ASGIApp


@dataclass
class RootRoutes:
    """One provider's routes under ``prefixes`` (each ``/name``, matched with what follows a
    ``/``); ``name`` is the name of its surface family."""

    name: str
    prefixes: Sequence[str]
    routes: Sequence[tuple[str, str, Endpoint]]  # ("GET,POST", "/templates/{id}", endpoint)
    _compiled: list[_Compiled] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for methods, path, endpoint in self.routes:
            regex, _, convertors = compile_path(path)
            allowed = {m.strip().upper() for m in methods.split(",") if m.strip()}
            if "GET" in allowed:
                allowed.add("HEAD")
            app = request_response(endpoint)
            self._compiled.append(_Compiled(frozenset(allowed), path, regex, convertors, app))

    def resolve(self, path: str, method: str) -> tuple[ASGIApp, dict[str, Any]]:
        """The route's app and path parameters; HTTPException 404 (no route serves the path)
        or 405 (only with other methods)."""
        known = False
        for route in self._compiled:
            found = route.regex.match(path)
            if found is None:
                continue
            if method not in route.methods:
                known = True
                continue
            params = {k: route.convertors[k].convert(v) for k, v in found.groupdict().items()}
            return route.app, params
        raise HTTPException(405 if known else 404)

    def specs(self) -> Iterator[tuple[str, str]]:
        """Every ``(method, path template)`` declared (for the route-policy table's tests; a
        GET route also answers HEAD)."""
        for methods, path, _endpoint in self.routes:
            for method in methods.split(","):
                yield method.strip().upper(), path


class PrefixRoute(BaseRoute):
    """Every path under one prefix, for the providers that declared it."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.tables: list[RootRoutes] = []

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path: str = scope["path"]
        if path.startswith(self.prefix) and (
            len(path) == len(self.prefix) or path[len(self.prefix)] == "/"
        ):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NotImplementedError  # nothing links to these routes by name

    def table_for(self, scope: Scope) -> RootRoutes:
        """The routes of the provider the surface gave this request to."""
        if len(self.tables) == 1:  # most prefixes: nothing to look up
            return self.tables[0]
        owner = family_of(scope)
        name = owner.name if owner is not None else ""
        return next((t for t in self.tables if t.name == name), self.tables[-1])

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        app, params = self.table_for(scope).resolve(scope["path"], scope["method"])
        scope["path_params"] = params
        await app(scope, receive, send)


def install(app: FastAPI, table: RootRoutes) -> None:
    """Serve ``table`` ahead of the app's other routes (prefix by prefix; a prefix another
    provider already declared is shared with it)."""
    prefixes: dict[str, PrefixRoute] = getattr(app.state, STATE_KEY, None) or {}
    setattr(app.state, STATE_KEY, prefixes)
    for prefix in table.prefixes:
        route = prefixes.get(prefix)
        if route is None:
            route = prefixes[prefix] = PrefixRoute(prefix)
            routes = app.router.routes
            first = next(
                (i for i, r in enumerate(routes) if not isinstance(r, DirectRoute)), len(routes)
            )
            routes.insert(first, route)
        route.tables.append(table)


def root_specs(app: FastAPI) -> list[tuple[str, str]]:
    """Every ``(method, path template)`` the providers at the root serve (read from
    ``app.routes``, which lists the routes not included yet too: ``api.lazy_routes``)."""
    prefixes = [r for r in app.routes if isinstance(r, PrefixRoute)]
    return sorted({s for r in prefixes for t in r.tables for s in t.specs()})
