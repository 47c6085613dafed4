"""Put an emulator's send routes ahead of the app's other routes, and serve them directly.

FastAPI tries routes in order, and the sandbox's own API router (dozens of routes) comes first,
so a send request used to be compared with every one of them before reaching its handler
(about a third of the CPU of a validate-only ``/v3/mail/send``). The send paths
(``/v3/mail/send``, ``/v3/{domain}/messages``) cannot match any route of the core API or the
UI, so trying them first changes which requests go where in no case; it only makes the hot
path shorter.

An endpoint marked with :func:`direct` (one that takes only the ``Request`` and returns a
``Response``: FastAPI has nothing to resolve, validate or serialise for it) is also served by a
plain Starlette :class:`DirectRoute` placed in front of everything: that skips FastAPI's
included-router matching, dependency solving and per-request exit stacks, about 45 µs of a
validate-only ``/v3/mail/send`` (of some 100). The FastAPI route stays where it was, for the
OpenAPI schema and for every other method: the direct route matches only its own methods, so a
GET, HEAD or OPTIONS reaches the same route (and the same 405) as before. Errors raised by the
endpoint go to the same app exception handlers (Starlette's ``request_response`` wraps it as
FastAPI's does).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

Endpoint = TypeVar("Endpoint", bound=Callable[[Request], Awaitable[Response]])
_DIRECT = "_hot_routes_direct"


def direct(endpoint: Endpoint) -> Endpoint:
    """Mark a route endpoint ``async def f(request: Request) -> Response`` to be served by a
    :class:`DirectRoute` when its router is added with :func:`include_first`."""
    setattr(endpoint, _DIRECT, True)
    return endpoint


class DirectRoute(Route):
    """A Starlette route for the endpoint of a FastAPI route; other methods do not match it."""

    def __init__(self, route: APIRoute) -> None:
        methods = sorted(route.methods or ())
        super().__init__(route.path, route.endpoint, methods=methods, name=route.name)
        self.api_route = route
        self.allowed = frozenset(methods)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in self.allowed:
            return Match.NONE, {}
        match, child_scope = super().matches(scope)
        if match != Match.NONE:
            child_scope["route"] = self.api_route  # what FastAPI's own matching records
        return match, child_scope


def _direct_route(route: Any) -> DirectRoute | None:
    if not isinstance(route, APIRoute) or not getattr(route.endpoint, _DIRECT, False):
        return None
    parameters = list(inspect.signature(route.endpoint).parameters.values())
    dependant = route.dependant
    if (
        len(parameters) != 1
        or dependant.request_param_name != parameters[0].name
        or dependant.dependencies
        or route.dependencies
        or not inspect.iscoroutinefunction(route.endpoint)
        or not route.methods
    ):
        raise TypeError(f"{route.path}: a direct endpoint takes only the Request, no Depends")
    return DirectRoute(route)


def include_first(
    app: FastAPI,
    router: APIRouter,
    *,
    include_in_schema: bool = True,
    tags: list[str | Enum] | None = None,
) -> None:
    """``app.include_router(router)``, placed before the routes already included, with a
    :class:`DirectRoute` in front of everything for each endpoint marked :func:`direct`."""
    routes = app.router.routes
    earlier = list(routes)
    routes.clear()
    # appended to the (now empty) list; FastAPI notes that its routes changed
    app.include_router(router, include_in_schema=include_in_schema, tags=tags)
    included = list(routes)
    routes.clear()
    routes.extend(r for r in map(_direct_route, router.routes) if r is not None)
    routes.extend(included)
    routes.extend(earlier)
