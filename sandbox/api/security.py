"""The HTTP guards of the whole app, as one ASGI middleware in front of every route.

In order, for each HTTP request and WebSocket handshake:

1. **Host** (DNS rebinding): only ``localhost``, ``*.localhost``, IP addresses, the address
   bound and ``--allow-host`` names are answered; anything else is a 403 that says which flag
   to add. A page on a rebound name (``attacker.example`` → 127.0.0.1) never reaches a route.
2. Non-canonical paths (``//view/x.html``, ``/a/../b``) get a 301 to the cleaned path.
3. The :class:`~.surface.Family` that owns the path and the route's :class:`~.surface.Policy`;
   a path no family claims is a 404 (so no route is served without a policy).
4. **Other sites** (cross-site request forgery, cross-site WebSocket hijacking): a request
   whose ``Origin`` is neither this server's nor an ``--allow-origin`` one is refused, and so
   is one a browser marks ``Sec-Fetch-Site: cross-site``/``same-site`` (a page on another
   port of localhost is same-site; a no-cors GET carries no Origin), on every path. The only
   exceptions, by policy: a top-level navigation (``Sec-Fetch-Mode: navigate``) to a UI page,
   and images/fonts/styles a sandboxed message document loads by the message's id. Those
   requests are marked (:func:`~.surface.is_cross_site`) and change nothing. UI actions must
   also prove they come from our page (our Origin, ``Sec-Fetch-Site: same-origin`` or htmx's
   ``HX-Request``). Apps calling the APIs from a server send neither header and pass.
5. **Credentials**: ``--ui-auth`` Basic auth (any of its logins) everywhere except probes and
   the ESP send routes; the other ESP routes then need a key the provider enforces
   (``--sendgrid-api-key``, ``--mailgun-api-key``, ``--ses-access-key``,
   ``--postmark-server-token``, ``--resend-api-key``), since they read mail and configure
   webhooks.
   A login scoped to some inboxes (``--inbox-scope``) is refused (403) the routes that span
   every inbox (``scoping.py``); the others show it its inboxes only.
6. Mailpit's CORS answers for ``/api/*`` and ``/view/*`` from trusted origins (``OPTIONS``
   answered here), and ``Referrer-Policy``/``X-Content-Type-Options``/a default CSP on every
   response.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import posixpath
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailsandbox.api import error_shapes
from mailsandbox.api.scoping import LOGIN_KEY, Scoping
from mailsandbox.api.surface import (
    CROSS_SITE_KEY,
    FAMILY_KEY,
    Auth,
    CrossSite,
    Family,
    Policy,
    Surface,
)
from mailsandbox.config import Settings, parse_allowed_host, parse_origin
from mailsandbox.logins import Logins

log = logging.getLogger(__name__)

USER_SCOPE_KEY = "mailsandbox.user"  # the Basic-auth user name, for handlers that record it
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, DELETE, PUT, OPTIONS",
    "Access-Control-Allow-Headers": "*",
}
SAME_SITE_VALUES = {"same-origin", "none"}  # Sec-Fetch-Site values that are not another site
PASSIVE_DESTINATIONS = {"image", "font", "style", "audio", "video", "track"}
READ_METHODS = {"GET", "HEAD"}
# Every response without its own policy: nothing it contains may run or load anything.
DEFAULT_CSP = b"default-src 'none'; frame-ancestors 'none'; sandbox"
CORS_REFUSED = "Blocked due to CORS violation"  # Mailpit's text (mailpit-compatible-api.md §1.1)
ALWAYS_ALLOWED_HOSTS = ("localhost",)


def clean_path(path: str) -> str:
    """Go's ``path.Clean`` for URL paths, keeping a trailing slash."""
    if not path.startswith("/"):
        path = "/" + path
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def basic_user(header: str | None) -> tuple[str, str] | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def host_name(host_header: str) -> str:
    """The name in a Host header, lower-cased, without port, brackets or trailing dot."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which Host names are answered. Any IP address is: DNS rebinding needs a name the
    attacker controls, and a browser sends that name, never the address it resolved to."""

    def __init__(self, bound_host: str, allowed: Iterable[str]) -> None:
        names = {parse_allowed_host(name) for name in allowed}
        self.any = "*" in names
        bound = host_name(bound_host)
        if bound and not _is_address(bound):
            names.add(bound)
        self.names = frozenset(names - {"*"})
        self._seen: dict[str, bool] = {}

    def accepts(self, host_header: str | None) -> bool:
        if self.any or not host_header:  # HTTP/1.0 clients send none; browsers always do
            return True
        known = self._seen.get(host_header)
        if known is None:
            if len(self._seen) >= 256:  # a handful of names in practice; never unbounded
                self._seen.clear()
            name = host_name(host_header)
            known = self._seen[host_header] = (
                name in ALWAYS_ALLOWED_HOSTS
                or name.endswith(".localhost")  # browsers resolve these to loopback themselves
                or name in self.names
                or _is_address(name)
            )
        return known

    def describe(self) -> str:
        extra = ", ".join(sorted(self.names))
        return "localhost, *.localhost, IP addresses" + (f", {extra}" if extra else "")


def host_refusal(host: str) -> str:
    name = host_name(host)
    return (
        f"mailsandbox: Host {name!r} is not allowed (DNS rebinding protection). "
        f"To reach the sandbox by this name, start it with --allow-host {name} "
        f"(or MAILSANDBOX_ALLOW_HOST={name}).\n"
    )


_FACTS = frozenset(
    (b"host", b"origin", b"sec-fetch-site", b"sec-fetch-mode", b"sec-fetch-dest", b"hx-request",
     b"authorization")
)  # fmt: skip


def _facts(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request headers the guards read, in one pass (ASGI names are lower-case)."""
    return {
        name.decode("latin-1"): value.decode("latin-1") for name, value in raw if name in _FACTS
    }


def _origin_netloc(origin: str) -> str:
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return "\x00invalid"


class SecurityMiddleware:
    def __init__(
        self, app: ASGIApp, surface: Surface, settings: Settings, scoping: Scoping
    ) -> None:
        self.app = app
        self.surface = surface
        self.logins = Logins(settings.ui_logins, settings.inbox_scopes)
        self.scoping = scoping
        self.settings = settings
        self.hosts = HostPolicy(settings.http_address[0], settings.allow_host)
        self.allowed_origins = frozenset(parse_origin(o) for o in settings.allow_origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(raw=scope["headers"])
        facts = _facts(scope["headers"])
        host = facts.get("host")
        if not self.hosts.accepts(host):
            await self._refuse(
                scope, receive, send, PlainTextResponse(host_refusal(host or ""), 403)
            )
            return
        path: str = scope["path"]
        if kind == "http":
            cleaned = clean_path(path)
            if cleaned != path:
                query = scope.get("query_string", b"").decode("latin-1")
                target = cleaned + (f"?{query}" if query else "")
                await RedirectResponse(target, status_code=301)(scope, receive, send)
                return
        method = scope.get("method", "GET")
        resolved = self.surface.resolve(method, path, headers)
        if resolved is None:
            await self._refuse(scope, receive, send, error_shapes.unclaimed())
            return
        family, policy = resolved
        scope[FAMILY_KEY] = family
        origin = facts.get("origin")
        trusted = origin is not None and self._trusted(origin, host)
        refusal = self._cross_site_refusal(scope, facts, policy, method, origin, trusted)
        if refusal is not None:
            response = self._shaped(scope, family, policy, 403, refusal)
            await self._refuse(scope, receive, send, response)
            return
        extra: list[tuple[bytes, bytes]] = []
        if kind == "http" and policy.cors and trusted and origin is not None:
            extra = [(b"access-control-allow-origin", origin.encode("latin-1"))]
            extra += [(k.lower().encode(), v.encode()) for k, v in CORS_HEADERS.items()]
            if method == "OPTIONS":  # a preflight: browsers send it without credentials
                await PlainTextResponse("")(scope, receive, self._with_headers(send, extra))
                return
        denied = self._auth_refusal(scope, facts, family, policy)
        if denied is not None:
            await self._refuse(scope, receive, send, denied)
            return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self._with_headers(send, extra))

    # --- the checks ----------------------------------------------------------------------
    def _trusted(self, origin: str, host: str | None) -> bool:
        """This server's own origin (same host and port, as Mailpit compares) or an allowed one."""
        if host is not None and _origin_netloc(origin) == host.lower():
            return True
        return origin.lower().rstrip("/") in self.allowed_origins

    @staticmethod
    def _cross_site_refusal(
        scope: Scope,
        headers: dict[str, str],
        policy: Policy,
        method: str,
        origin: str | None,
        trusted: bool,
    ) -> str | None:
        """Why a request from another site is refused, or None (then it may go on)."""
        site = headers.get("sec-fetch-site")
        embeddable = policy.cross_site is CrossSite.EMBED and method in READ_METHODS
        if origin is not None and not trusted and not (origin == "null" and embeddable):
            return f"cross-origin request from {origin} refused (see --allow-origin)"
        if not trusted and site is not None and site not in SAME_SITE_VALUES:
            mode = headers.get("sec-fetch-mode")
            dest = headers.get("sec-fetch-dest")
            navigation = mode == "navigate" and dest in (None, "document")
            passive = mode == "no-cors" and dest in PASSIVE_DESTINATIONS
            allowed = method in READ_METHODS and (
                (policy.cross_site is not CrossSite.REFUSE and navigation)
                or (policy.cross_site is CrossSite.EMBED and passive)
            )
            if not allowed:
                return f"{site} request refused: only this server's own pages may call it"
            scope[CROSS_SITE_KEY] = True
        if policy.same_origin_proof and not (
            trusted or site == "same-origin" or headers.get("hx-request") == "true"
        ):
            return "cross-origin request refused: no proof it came from the sandbox's own page"
        return None

    def _auth_refusal(
        self, scope: Scope, headers: dict[str, str], family: Family, policy: Policy
    ) -> Response | None:
        if not self.logins.required:
            return None
        if policy.auth is Auth.UI:
            given = basic_user(headers.get("authorization"))
            login = self.logins.check(*given) if given is not None else None
            if login is None:
                return self._unauthorized()
            scope[USER_SCOPE_KEY] = login.user
            scope[LOGIN_KEY] = login
            if not self.scoping.allows(login, scope.get("method", "GET"), scope["path"]):
                message = (
                    f"the login {login.user!r} sees only the inboxes it is scoped to"
                    " (--inbox-scope); this covers every inbox"
                )
                return family.errors.error(Request(scope), 403, message)
        elif policy.auth is Auth.PROVIDER_MANAGED:
            check = family.enforced_key
            if check is None or not check(Request(scope)):
                message = (
                    f"this sandbox runs with --ui-auth: {family.title}'s routes other than "
                    f"sending need an API key the sandbox enforces (start it with "
                    f"{family.enforcing_flag} KEY and call with that key)"
                )
                return family.errors.error(Request(scope), 401, message)
        return None

    # --- answers -------------------------------------------------------------------------
    @staticmethod
    def _shaped(scope: Scope, family: Family, policy: Policy, status: int, text: str) -> Response:
        if policy.cors:  # Mailpit's own refusal text, which its clients know
            return PlainTextResponse(CORS_REFUSED, status)
        return family.errors.error(Request(scope), status, text)

    @staticmethod
    def _unauthorized() -> Response:
        return PlainTextResponse(
            "Unauthorized.\n", 401, headers={"WWW-Authenticate": 'Basic realm="Login"'}
        )

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, response: Response) -> None:
        if scope["type"] == "http":
            await response(scope, receive, self._with_headers(send, []))
        elif "websocket.http.response" in scope.get("extensions", {}):
            await response(scope, receive, send)  # a real status and body, as Mailpit's 401
        else:
            await send({"type": "websocket.close", "code": 1008})  # the server answers 403

    @staticmethod
    def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += extra
                if b"referrer-policy" not in names:
                    headers.append((b"referrer-policy", b"no-referrer"))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", DEFAULT_CSP))
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


def install(app: FastAPI, surface: Surface, settings: Settings, scoping: Scoping) -> None:
    """Put the guards in front of every route, and say which Host names are answered when the
    sandbox listens beyond loopback."""
    app.add_middleware(SecurityMiddleware, surface=surface, settings=settings, scoping=scoping)
    bound = host_name(settings.http_address[0])
    loopback = bound in ALWAYS_ALLOWED_HOSTS or (
        _is_address(bound) and ipaddress.ip_address(bound).is_loopback
    )
    if not loopback and not settings.allow_host:
        hosts = HostPolicy(settings.http_address[0], settings.allow_host)
        log.warning(
            "HTTP listens on %s: it answers only to the Host names %s; "
            "add --allow-host NAME for any other name clients use",
            bound or "all interfaces",
            hosts.describe(),
        )
