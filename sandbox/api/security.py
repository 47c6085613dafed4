"""HTTP guards for the whole app, as one ASGI middleware installed by ``create_app``.

- Non-canonical paths (``//view/x.html``, ``/a/../b``) get a 301 to the cleaned path.
- Optional HTTP Basic auth (``--ui-auth``) on everything except ``/livez``, ``/readyz`` and the
  ESP emulator paths (``/v3/*``, ``/v4/*``, ``/v5/*``, SES v2's ``/v2/email/*``, the AWS
  Query requests on ``/``, and Postmark's and Resend's root paths when they carry the
  provider's credentials: they have their own auth; see :func:`aws_query` and
  :func:`root_provider`).
  WebSockets (``/api/events``) get the same auth and accept any ``Origin``, as Mailpit's does.
- Mailpit's CORS rule for ``/api/*`` and ``/view/*``: a request whose ``Origin`` is not this
  host is refused (403 ``Blocked due to CORS violation``); allowed ones get the
  ``Access-Control-*`` headers, and ``OPTIONS`` is answered here.
- Anywhere else except the ESP paths (the UI), a state-changing request (POST/PUT/PATCH/DELETE)
  from a foreign ``Origin`` is refused with 403, so a web page cannot act on the sandbox.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import posixpath
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBES = {"/livez", "/readyz"}
ESP_PREFIXES = ("/v3/", "/v4/", "/v5/", "/v2/email/", "/SimpleNotificationService-")
POSTMARK_PATHS = (
    "/email",
    "/templates",
    "/bounces",
    "/deliverystats",
    "/message-streams",
    "/messages",
    "/webhooks",
)
RESEND_PATHS = ("/emails", "/domains", "/api-keys", "/templates", "/webhooks")
CORS_PREFIXES = ("/api/", "/view/")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, DELETE, PUT, OPTIONS",
    "Access-Control-Allow-Headers": "*",
}
USER_SCOPE_KEY = "mailsandbox.user"  # the Basic-auth user name, for handlers that record it


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


def aws_query(scope: Scope, headers: Headers) -> bool:
    """SES v1 and SNS on ``/``: a SigV4-signed POST (a cross-origin page cannot send one
    without a preflight), or an SNS SubscribeURL / UnsubscribeURL being followed."""
    if scope["path"] != "/":
        return False
    if scope["method"] == "POST":
        return headers.get("authorization", "").startswith("AWS4-HMAC-SHA256")
    query = scope.get("query_string", b"")
    return b"Action=ConfirmSubscription" in query or b"Action=Unsubscribe" in query


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def root_provider(path: str, headers: Headers) -> bool:
    """Postmark's and Resend's paths at the root, with their own credentials
    (``X-Postmark-Server-Token``; ``Authorization: Bearer``): a page on another site cannot
    send either header without a preflight, which the sandbox never grants."""
    if "x-postmark-server-token" in headers and _under(path, POSTMARK_PATHS):
        return True
    bearer = headers.get("authorization", "")[:7].lower() == "bearer "
    return bearer and _under(path, RESEND_PATHS)


def _origin_host(origin: str) -> str:
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return "\x00invalid"


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, credentials: tuple[str, str] | None) -> None:
        self.app = app
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        cleaned = clean_path(path)
        if cleaned != path:
            query = scope.get("query_string", b"").decode("latin-1")
            target = cleaned + (f"?{query}" if query else "")
            await RedirectResponse(target, status_code=301)(scope, receive, send)
            return
        if path in PROBES:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        esp = (
            path.startswith(ESP_PREFIXES)
            or aws_query(scope, headers)
            or root_provider(path, headers)
        )
        if not esp and self.credentials is not None:
            given = basic_user(headers.get("authorization"))
            if given is None or not self._valid(given):
                await self._unauthorized(scope, receive, send)
                return
            scope[USER_SCOPE_KEY] = given[0]
        if esp:
            await self.app(scope, receive, send)
            return
        origin = headers.get("origin")
        foreign = origin is not None and _origin_host(origin) != headers.get("host", "").lower()
        method = scope["method"]
        if path.startswith(CORS_PREFIXES):
            if foreign:
                await PlainTextResponse("Blocked due to CORS violation", 403)(scope, receive, send)
                return
            extra = {"Access-Control-Allow-Origin": origin, **CORS_HEADERS} if origin else {}
            if method == "OPTIONS" and path.startswith("/api/"):
                await PlainTextResponse("", headers=extra)(scope, receive, send)
                return
            await self.app(scope, receive, self._with_headers(send, extra))
            return
        if foreign and method in UNSAFE_METHODS:
            await PlainTextResponse("Cross-origin request refused", 403)(scope, receive, send)
            return
        await self.app(scope, receive, self._with_headers(send, {}))

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.credentials is not None:
            given = basic_user(Headers(scope=scope).get("authorization"))
            if given is None or not self._valid(given):
                if "websocket.http.response" in scope.get("extensions", {}):
                    await self._unauthorized(scope, receive, send)  # a real 401, as Mailpit
                else:
                    await send({"type": "websocket.close", "code": 1008})  # server answers 403
                return
            scope[USER_SCOPE_KEY] = given[0]
        await self.app(scope, receive, send)

    def _valid(self, given: tuple[str, str]) -> bool:
        assert self.credentials is not None
        user_ok = hmac.compare_digest(given[0].encode(), self.credentials[0].encode())
        password_ok = hmac.compare_digest(given[1].encode(), self.credentials[1].encode())
        return user_ok and password_ok

    @staticmethod
    async def _unauthorized(scope: Scope, receive: Receive, send: Send) -> None:
        response: Response = PlainTextResponse(
            "Unauthorized.\n", 401, headers={"WWW-Authenticate": 'Basic realm="Login"'}
        )
        await response(scope, receive, send)

    @staticmethod
    def _with_headers(send: Send, extra: dict[str, str]) -> Send:
        added = [(b"referrer-policy", b"no-referrer")]
        added += [(k.lower().encode(), v.encode("latin-1")) for k, v in extra.items()]

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        return wrapped


def install(app: FastAPI, credentials: tuple[str, str] | None) -> None:
    """Put the guards in front of every route."""
    app.add_middleware(SecurityMiddleware, credentials=credentials)
