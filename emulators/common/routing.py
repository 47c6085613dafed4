"""Serving a provider's paths at the root of the sandbox: its routes, its answers for unknown
paths and wrong methods, and paths two providers share.

Postmark (``/email``, ``/templates``, ``/bounces``...) and Resend (``/emails``, ``/domains``...)
live at the root, as on their own hosts (esp-contracts.md, routing section). Each declares a
:class:`Family`: path prefixes, a table of ``(methods, path template, endpoint)`` routes whose
endpoints take only the ``Request`` and return a ``Response``, and an ``unknown`` answer for a
path of its prefixes that no route serves (404) or serves with other methods (405), in the
provider's error shape, never FastAPI's ``{"detail": ...}``.

:func:`install` puts one :class:`FamilyRoute` per prefix in front of the app's routes (right
after the other emulators' direct send routes, ``hot_routes``): it claims every path under its
prefix and nothing else (the prefixes collide with no route of the core or the UI), so a request
is matched with one string comparison before the per-route regular expressions, which keeps the
send paths as short as SendGrid's direct routes.

Where two providers share a prefix (``/webhooks``: Postmark's and Resend's), the request's
credentials decide: the first family whose ``claims`` accepts the request serves it, and a
family without ``claims`` takes whatever no other family claimed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, compile_path, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from mailsandbox.emulators.hot_routes import DirectRoute

Endpoint = Callable[[Request], Awaitable[Response]]
# the answer for a path no route serves: (request, whether another method would be served)
Unknown = Callable[[Request, bool], Awaitable[Response]]
STATE_KEY = "emulator_family_routes"


@dataclass
class _Compiled:
    methods: frozenset[str]
    regex: Any
    convertors: dict[str, Any]
    app: ASGIApp


@dataclass
class Family:
    """One provider's routes under ``prefixes`` (each ``/name``, matched with what follows a
    ``/``), with its answer for unknown paths, and (for shared prefixes) which requests are its."""

    name: str
    prefixes: Sequence[str]
    routes: Sequence[tuple[str, str, Endpoint]]  # ("GET,POST", "/templates/{id}", endpoint)
    unknown: Unknown
    claims: Callable[[Request], bool] | None = None
    _compiled: list[_Compiled] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for methods, path, endpoint in self.routes:
            regex, _, convertors = compile_path(path)
            allowed = {m.strip().upper() for m in methods.split(",") if m.strip()}
            if "GET" in allowed:
                allowed.add("HEAD")
            self._compiled.append(
                _Compiled(frozenset(allowed), regex, convertors, request_response(endpoint))
            )

    def resolve(self, path: str, method: str) -> tuple[ASGIApp | None, dict[str, Any], bool]:
        """``(the route's app or None, path parameters, whether the path is served at all)``."""
        known = False
        for route in self._compiled:
            found = route.regex.match(path)
            if found is None:
                continue
            if method not in route.methods:
                known = True
                continue
            params = {k: route.convertors[k].convert(v) for k, v in found.groupdict().items()}
            return route.app, params, True
        return None, {}, known


class FamilyRoute(BaseRoute):
    """Every path under one prefix, for the families that declared it."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.families: list[Family] = []

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

    def family_for(self, request: Request) -> Family:
        default = self.families[-1]
        for family in self.families:
            if family.claims is None:
                default = family
            elif family.claims(request):
                return family
        return default

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        one = len(self.families) == 1  # most prefixes: no request to look at first
        family = self.families[0] if one else self.family_for(Request(scope, receive))
        app, params, known = family.resolve(scope["path"], scope["method"])
        if app is None:

            async def unknown(request: Request) -> Response:
                return await family.unknown(request, known)

            app = request_response(unknown)
        scope["path_params"] = params
        await app(scope, receive, send)


def install(app: FastAPI, family: Family) -> None:
    """Serve ``family`` ahead of the app's other routes (prefix by prefix; a prefix another
    family already declared is shared with it)."""
    table: dict[str, FamilyRoute] = getattr(app.state, STATE_KEY, None) or {}
    setattr(app.state, STATE_KEY, table)
    for prefix in family.prefixes:
        route = table.get(prefix)
        if route is None:
            route = table[prefix] = FamilyRoute(prefix)
            routes = app.router.routes
            first = next(
                (i for i, r in enumerate(routes) if not isinstance(r, DirectRoute)), len(routes)
            )
            routes.insert(first, route)
        route.families.append(family)
