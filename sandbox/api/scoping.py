"""Logins scoped to inboxes (``--inbox-scope USER=a,b``): which routes such a login may use.

Every route a ``--ui-auth`` login can reach is in this table with one of three kinds:

- ``filtered``: it shows (or changes) mail, and only the login's inboxes' (the route reads
  :func:`visible_inboxes` and filters; a message of another inbox is "not found");
- ``no-mail``: it holds no mail and nothing about any inbox (static files, the API docs);
- ``all-inboxes``: configuration or data that spans every inbox (delivery rules, webhooks,
  suppressions, metrics, inbox rules, import, ``/api/v1/send``, ``/api/v1/inbound``, tag
  renames): refused (403) to a scoped login; a login without a scope uses it as before.

The ESP emulators' routes (SendGrid, Mailgun, SES) take the provider's key, never a
``--ui-auth`` login, so they are not in this table: a scoped login has no way in there.

A route missing from the table is refused to scoped logins (fail closed), and
``tests/sandbox/api/test_scoping.py`` lists every route of the app with its kind, so a new
route shows up there before it can leak. Add-ons add their routes in their ``install()``
(``scoping_of(app).add(...)``).
"""

from __future__ import annotations

from enum import Enum

from fastapi import FastAPI, Request
from starlette.types import Scope

from mailsandbox.api.surface import API, RouteRule, rule
from mailsandbox.logins import Login


class Kind(Enum):
    FILTERED = "filtered"
    NO_MAIL = "no-mail"
    ALL_INBOXES = "all-inboxes"


LOGIN_KEY = "mailsandbox.login"  # scope key: the Login the credentials belong to


class Scoping:
    """The table: route rules and their kinds, first match wins."""

    def __init__(self) -> None:
        self._rules: list[tuple[RouteRule, Kind]] = []

    def add(self, kind: Kind, *specs: str) -> None:
        """``add(Kind.FILTERED, "GET /api/v1/messages", "GET,HEAD /view/{message_id}.html")``."""
        # (A RouteRule carries a policy, which this table does not use. A template ending in
        # ``/*`` covers the subtree, and may have parameters: ``/api/v1/message/{id}/*``.)
        for spec in specs:
            subtree = spec.endswith("/*") and "{" in spec
            route = rule(spec[:-2] + "/{rest:path}" if subtree else spec, API)
            self._rules.append((route, kind))

    def kind_of(self, method: str, path: str) -> Kind | None:
        for route, kind in self._rules:
            if route.matches(method, path):
                return kind
        return None

    def allows(self, login: Login, method: str, path: str) -> bool:
        """Whether ``login`` may use this route (an unscoped one may use them all)."""
        if login.inboxes is None:
            return True
        return self.kind_of(method, path) in (Kind.FILTERED, Kind.NO_MAIL)


def core_routes(scoping: Scoping) -> None:
    scoping.add(
        Kind.FILTERED,
        "GET,DELETE,PUT /api/v1/messages",
        "DELETE /api/v1/messages/{message_id}",
        "GET,DELETE /api/v1/search",
        "GET /api/v1/message/{message_id}",
        "GET /api/v1/message/{message_id}/*",
        "POST /api/v1/message/{message_id}/events",
        "POST /api/v1/message/{message_id}/release",
        "GET /api/v1/inboxes",
        "GET /api/v1/info",
        "GET,PUT /api/v1/tags",
        "GET /api/v1/wait",
        "GET /api/v1/stream",
        "GET /api/events",
        "GET /api/v1/export",
        "GET /api/v2/messages",
        "GET /api/v2/search",
        "GET,HEAD /view/{message_id}.html",
        "GET,HEAD /view/{message_id}.txt",
        "GET /t/*",  # tracking links: the token names the message, checked like an id
    )
    scoping.add(
        Kind.NO_MAIL,
        "GET /api/v1/webui",
        "GET,PUT /api/v1/chaos",
        "DELETE /api/v1/messages/",  # MailHog's delete with an empty id: always 404
        "GET,HEAD /api/v1/openapi.json",
        "GET,HEAD /api/docs",
        "GET,HEAD /api/docs/*",
    )
    scoping.add(
        Kind.ALL_INBOXES,
        "POST /api/v1/send",
        # Mail sent *in* is routed through the inbound rules (webhooks to the app), and a reply
        # names the message it answers: like send, not for a scoped login.
        "POST /api/v1/inbound",
        "GET,POST /api/v1/rules",
        "PATCH,DELETE /api/v1/rules/{rule_id}",
        "GET /api/v1/webhooks/*",
        "POST /api/v1/webhooks/*",
        "GET,POST /api/v1/inbox-rules",
        "DELETE /api/v1/inbox-rules/{rule_id}",
        "POST /api/v1/import",
        "PUT,DELETE /api/v1/tags/{tag:path}",
        "GET /metrics",
    )


def install(app: FastAPI) -> Scoping:
    """The app's table, starting with the core's routes."""
    scoping = Scoping()
    core_routes(scoping)
    app.state.scoping = scoping
    return scoping


def scoping_of(app: FastAPI) -> Scoping:
    scoping: Scoping = app.state.scoping
    return scoping


def login_of(scope: Scope) -> Login | None:
    login: Login | None = scope.get(LOGIN_KEY)
    return login


def visible_inboxes(request: Request) -> frozenset[str] | None:
    """FastAPI dependency: the inboxes this request may see (None: all of them)."""
    login = login_of(request.scope)
    return login.inboxes if login is not None else None
