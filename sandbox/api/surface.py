"""The HTTP surface as one table: which family of routes owns a path, and each route's policy.

Every request is first matched to a :class:`Family` (the Mailpit-compatible API, the web UI, an
ESP emulator, ...). The family decides the *shape* of the errors it answers with (a 404 for an
unknown SendGrid path looks like SendGrid's, one under ``/api/v1`` like our API's) and, for
each of its routes, the :class:`Policy` the request is served under: which credentials it needs
and whether a page from another site may reach it. ``security.py`` enforces the policy before
any route runs; ``error_shapes.py`` renders 404/405/400 answers in the family's shape.

A path no family claims is answered 404 before it reaches a route, so a new route is
unreachable until its family (and, if it differs from the family's default, its policy) is
written here or in the ``install()`` of the add-on that owns it. ``tests/sandbox/api/
test_route_policy.py`` lists every route of the app with the policy it expects.

Families are tried in the order they were added, ``fallback`` families (SendGrid's ``/v3/``,
which owns whatever Mailgun does not) after all others. A provider joins with one line, e.g.::

    surface.add(Family("postmark", claims_postmark, ESP_MANAGE, errors=POSTMARK_ERRORS,
                       routes=rules(ESP_SEND, "POST /email", "POST /email/batch"),
                       enforced_key=postmark_key_is_enforced))

A claim may read headers where two providers share a path (Postmark's and Resend's
``/webhooks``: the auth header decides), e.g. ``lambda method, path, headers:
path.startswith("/webhooks") and "x-postmark-server-token" in headers``; claims built with
:func:`claims_prefixes` / :func:`claims_pattern` look at the path only, which lets the surface
remember each (method, path)'s answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import compile_path
from starlette.types import Scope


class Auth(Enum):
    NONE = "none"  # nothing to check (probes)
    UI = "ui"  # the --ui-auth credentials, when set
    PROVIDER = "provider"  # only the provider's own key check, in the route (its send calls)
    PROVIDER_MANAGED = "provider-managed"  # as PROVIDER; with --ui-auth, an *enforced* key


class CrossSite(Enum):
    """What a browser page of another site may do (an app's server sends no Sec-Fetch-*)."""

    REFUSE = "refuse"  # nothing
    NAVIGATE = "navigate"  # open it in a tab (a link, a bookmark): read-only UI pages
    EMBED = "embed"  # also load it as an image/font/style: URLs that name a message by its id


@dataclass(frozen=True)
class Policy:
    name: str
    auth: Auth
    cross_site: CrossSite = CrossSite.REFUSE
    same_origin_proof: bool = False  # also refuse a request that cannot show it came from us
    cors: bool = False  # Mailpit's CORS headers for trusted origins, OPTIONS answered

    def __str__(self) -> str:
        return self.name


PROBE = Policy("probe", Auth.NONE)
API = Policy("api", Auth.UI, cors=True)
UI_PAGE = Policy("ui-page", Auth.UI, CrossSite.NAVIGATE)
UI_ACTION = Policy("ui-action", Auth.UI, same_origin_proof=True)
# Message parts and tracking links: the browser loads them from a sandboxed (opaque-origin)
# document, so every such load is "cross-site"; they need the message's random id to name it.
MESSAGE_CONTENT = Policy("message-content", Auth.UI, CrossSite.EMBED, cors=True)
ESP_SEND = Policy("esp-send", Auth.PROVIDER)
ESP_MANAGE = Policy("esp-manage", Auth.PROVIDER_MANAGED)
POLICIES = (PROBE, API, UI_PAGE, UI_ACTION, MESSAGE_CONTENT, ESP_SEND, ESP_MANAGE)


class ErrorShape(Protocol):
    """How a family answers errors: its 404 for an unknown path, and any other status."""

    def not_found(self, request: Request) -> Response: ...

    def error(self, request: Request, status: int, message: str) -> Response: ...


class PlainErrors:
    """Go's ``http.Error`` style: ``text/plain``, the message and a newline."""

    def not_found(self, request: Request) -> Response:
        return self.error(request, 404, "404 page not found")

    def error(self, request: Request, status: int, message: str) -> Response:
        return PlainTextResponse(f"{message}\n", status_code=status)


PLAIN = PlainErrors()

Claim = Callable[[str, str, Headers], bool]  # (method, path, headers) → this family's
KeyCheck = Callable[[Request], bool]  # does the request carry a key the provider enforces?


PATH_ONLY = "_surface_path_only"  # a claim that looks at the method and path, never headers
HEADER_PATHS = "_surface_header_paths"  # the paths under which a claim reads headers


def claims_method_path(claim: Claim) -> Claim:
    """Mark ``claim`` (a function of the method and path only) as one that reads no header."""
    setattr(claim, PATH_ONLY, True)
    return claim


def reads_headers_under(prefixes: Sequence[str], claim: Claim) -> Claim:
    """Mark ``claim`` as reading headers only for paths equal to or below one of ``prefixes``
    (elsewhere its answer depends on the method and path alone)."""
    setattr(claim, HEADER_PATHS, tuple(prefixes))
    return claim


def header_paths(claim: Claim) -> tuple[str, ...] | None:
    """The paths under which ``claim`` reads headers: () if never, None if anywhere."""
    if getattr(claim, PATH_ONLY, False):
        return ()
    found: tuple[str, ...] | None = getattr(claim, HEADER_PATHS, None)
    return found


def claims_prefixes(*prefixes: str, exact: Sequence[str] = ()) -> Claim:
    """Paths starting with one of ``prefixes`` (or equal to one of ``exact``)."""
    exact_set = frozenset(exact)
    return claims_method_path(
        lambda _method, path, _headers: path in exact_set or path.startswith(prefixes)
    )


def claims_pattern(pattern: str, methods: Sequence[str] = ()) -> Claim:
    """Paths matching a regular expression (and, when given, only these methods)."""
    compiled = re.compile(pattern)
    allowed = frozenset(methods)

    def claim(method: str, path: str, _headers: Headers) -> bool:
        return (not allowed or method in allowed) and compiled.match(path) is not None

    return claims_method_path(claim)


def claims_any(*claims: Claim) -> Claim:
    """Requests any of ``claims`` accepts."""

    def combined(method: str, path: str, headers: Headers) -> bool:
        return any(claim(method, path, headers) for claim in claims)

    parts = [header_paths(c) for c in claims]
    if all(part == () for part in parts):
        return claims_method_path(combined)
    if all(part is not None for part in parts):
        return reads_headers_under([p for part in parts for p in part or ()], combined)
    return combined


@dataclass(frozen=True)
class RouteRule:
    """One route (or group of routes) whose policy differs from its family's default."""

    methods: frozenset[str]  # empty = every method
    template: str  # a route path, as the router declares it: /v3/{domain:mgdomain}/messages
    policy: Policy
    regex: re.Pattern[str] = field(compare=False, repr=False)

    def matches(self, method: str, path: str) -> bool:
        return (not self.methods or method in self.methods) and bool(self.regex.match(path))


def rule(spec: str, policy: Policy) -> RouteRule:
    """``rule("POST,PUT /v3/mail/send", ESP_SEND)``; a template ending in ``/*`` covers a
    whole subtree (``/ui/static/*``)."""
    methods, _, template = spec.strip().rpartition(" ")
    if template.endswith("/*"):
        regex = re.compile(re.escape(template[:-1]))
    else:
        regex = compile_path(template)[0]
    wanted = frozenset(m.strip().upper() for m in methods.split(",") if m.strip())
    return RouteRule(wanted, template, policy, regex)


def rules(policy: Policy, *specs: str) -> tuple[RouteRule, ...]:
    """Several routes under one policy: ``rules(ESP_SEND, "POST /email", "POST /email/batch")``."""
    return tuple(rule(spec, policy) for spec in specs)


@dataclass(frozen=True)
class Family:
    """A part of the URL space with one owner: its error shape and its routes' policies."""

    name: str
    claims: Claim
    policy: Policy  # for every route not listed in ``routes``
    routes: tuple[RouteRule, ...] = ()
    errors: ErrorShape = PLAIN
    enforced_key: KeyCheck | None = None  # providers: what --ui-auth accepts on ESP_MANAGE
    fallback: bool = False  # tried after every other family
    label: str = ""  # how messages name it ("SendGrid"), defaults to ``name``
    key_flag: str = ""  # the flag that enforces its keys, defaults to ``--<name>-api-key``

    def policy_for(self, method: str, path: str) -> Policy:
        for route in self.routes:
            if route.matches(method, path):
                return route.policy
        return self.policy

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def enforcing_flag(self) -> str:
        return self.key_flag or f"--{self.name}-api-key"


class Surface:
    """The ordered families of one app (``app.state.surface``)."""

    CACHE_SIZE = 4096

    def __init__(self) -> None:
        self._families: list[Family] = []
        # (method, path) → answer, for the paths where no family's claim reads headers: most
        # requests repeat a few paths (the send routes above all), so each is matched once.
        self._cache: dict[tuple[str, str], tuple[Family, Policy] | None] | None = {}
        self._header_paths: tuple[str, ...] = ()  # where a claim reads headers: not cached

    def add(self, family: Family) -> None:
        if any(f.name == family.name for f in self._families):
            raise ValueError(f"family {family.name!r} is already on the surface")
        self._families.append(family)
        self._families.sort(key=lambda f: f.fallback)  # stable: order kept within each group
        parts = [header_paths(f.claims) for f in self._families]
        if any(part is None for part in parts):  # a claim may read headers on any path
            self._cache, self._header_paths = None, ()
        else:
            self._cache = {}
            self._header_paths = tuple(p for part in parts for p in part or ())

    @property
    def families(self) -> tuple[Family, ...]:
        return tuple(self._families)

    def family_for(self, method: str, path: str, headers: Headers) -> Family | None:
        for family in self._families:
            if family.claims(method, path, headers):
                return family
        return None

    def resolve(self, method: str, path: str, headers: Headers) -> tuple[Family, Policy] | None:
        """The family owning the request and the policy of its route (None: no family)."""
        cache, key = self._cache, (method, path)
        if cache is not None and self._header_paths and under(path, self._header_paths):
            cache = None  # a claim reads this request's headers: decide afresh
        if cache is not None and key in cache:
            return cache[key]
        family = self.family_for(method, path, headers)
        answer = None if family is None else (family, family.policy_for(method, path))
        if cache is not None:
            if len(cache) >= self.CACHE_SIZE:
                cache.clear()
            cache[key] = answer
        return answer


def under(path: str, prefixes: Sequence[str]) -> bool:
    """Whether ``path`` is one of ``prefixes`` or below one."""
    return any(path == p or path.startswith(p + "/") for p in prefixes)


FAMILY_KEY = "mailsandbox.family"  # scope key: the Family the security middleware matched
CROSS_SITE_KEY = "mailsandbox.cross_site"  # scope key: True when a page of another site asked


def family_of(scope: Scope) -> Family | None:
    family: Family | None = scope.get(FAMILY_KEY)
    return family


def is_cross_site(request: Request) -> bool:
    """Whether a page of another site made this request (a link it followed, an image it
    loaded): such a request may read what its policy allows, but must change nothing."""
    return bool(request.scope.get(CROSS_SITE_KEY))
