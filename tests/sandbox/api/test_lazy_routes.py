"""The provider emulators' and the web UI's routes are included at their first request
(``mailsandbox.api.lazy_routes``): a sandbox that never sees one never builds them, and the
request that includes them is answered exactly as every later one (status, headers, body,
guards, error shapes), while anything that lists the routes sees all of them."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailsandbox.api import lazy_routes
from mailsandbox.api.lazy_routes import LazyRoutes, LazyRoutesApp, lazy_routes_of
from mailsandbox.api.surface import ESP_MANAGE, FAMILY_KEY, Family, claims_prefixes
from mailsandbox.app import create_app
from mailsandbox.emulators.common.routing import PrefixRoute
from mailsandbox.emulators.hot_routes import DirectRoute
from mailsandbox.runner import RunningSandbox
from tests.conftest import make_settings

Factory = Callable[..., RunningSandbox]
CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
SENDGRID = {"Authorization": "Bearer SG.key"}
MAILGUN = {"Authorization": "Basic YXBpOmtleS10ZXN0"}  # api:key-test
SES = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ses/aws4_request,"
    " SignedHeaders=host, Signature=00"
}
POSTMARK = {"X-Postmark-Server-Token": "token", "Accept": "application/json"}
RESEND = {"Authorization": "Bearer re_key"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    data: Any = None

    def send(self, client: httpx.Client) -> httpx.Response:
        return client.request(
            self.method, self.path, headers=self.headers, json=self.json, data=self.data
        )


# Per provider: a read (first), an unknown path under its prefix, a wrong method, an invalid
# send (it stores nothing), a request from another site (and SendGrid: one naming another host).
CALLS: dict[str, list[Call]] = {
    "sendgrid": [
        Call("GET", "/v3/templates?generations=dynamic", SENDGRID),
        Call("GET", "/v3/no/such/path", SENDGRID),
        Call("GET", "/v3/mail/send", SENDGRID),
        Call("POST", "/v3/mail/send", SENDGRID, json={}),
        Call("DELETE", "/v3/templates/d-1", {**SENDGRID, **CROSS_SITE}),
        Call("GET", "/v3/templates", {**SENDGRID, "Host": "rebind.example"}),
    ],
    "mailgun": [
        Call("GET", "/v3/domains", MAILGUN),
        Call("GET", "/v4/no/such/path", MAILGUN),
        Call("GET", "/v3/mg.example.com/messages", MAILGUN),
        Call("POST", "/v3/mg.example.com/messages", MAILGUN, data={"to": "a@example.com"}),
        Call("DELETE", "/v3/mg.example.com/templates/t", {**MAILGUN, **CROSS_SITE}),
    ],
    "ses": [
        Call("GET", "/v2/email/templates", SES),
        Call("GET", "/v2/email/no/such/path", SES),
        Call("GET", "/v2/email/outbound-emails", SES),
        Call("POST", "/v2/email/outbound-emails", SES, json={}),
        Call("POST", "/", SES, data={"Action": "NoSuchAction"}),
    ],
    "postmark": [
        Call("GET", "/templates?count=10&offset=0", POSTMARK),
        Call("GET", "/email/no/such/path", POSTMARK),
        Call("GET", "/email", POSTMARK),
        Call("POST", "/email", POSTMARK, json={}),
        Call("DELETE", "/templates/1", {**POSTMARK, **CROSS_SITE}),
    ],
    "resend": [
        Call("GET", "/domains", RESEND),
        Call("GET", "/emails/no/such/path", RESEND),
        Call("PUT", "/emails", RESEND),
        Call("POST", "/emails", RESEND, json={}),
        Call("DELETE", "/webhooks/w", {**RESEND, **CROSS_SITE}),
    ],
    "ui": [
        Call("GET", "/", {}),
        Call("GET", "/ui/no/such/page", {}),
        Call("GET", "/ui/static/no-such-file.css", {}),
        Call("POST", "/ui/messages/delete-all", {}),  # no proof it came from our pages
        Call("POST", "/ui/messages/delete-all", CROSS_SITE),
    ],
}
VARYING = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)  # request ids in error bodies and headers


def answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], str]:
    headers = sorted(
        (k, VARYING.sub("<id>", v)) for k, v in response.headers.items() if k != "date"
    )
    return response.status_code, headers, VARYING.sub("<id>", response.text)


def lazy_of(running: RunningSandbox) -> LazyRoutes:
    return lazy_routes_of(running.app)


@pytest.fixture
def client(sandbox_factory: Factory) -> Iterator[tuple[RunningSandbox, httpx.Client]]:
    running = sandbox_factory()
    with httpx.Client(base_url=running.url, timeout=30) as http:
        yield running, http


@pytest.mark.parametrize("family", sorted(CALLS))
def test_the_first_request_of_a_family_is_answered_as_the_next(
    client: tuple[RunningSandbox, httpx.Client], family: str
) -> None:
    running, http = client
    before = list(running.app.router.routes)
    for n, call in enumerate(CALLS[family]):
        first = answer(call.send(http))
        assert (first[0] == 200) == (n == 0), (call, first)  # the read works, the rest are errors
        assert answer(call.send(http)) == first, call
    assert len(running.app.router.routes) > len(before)  # these routes were included
    assert lazy_of(running).pending  # and only these: the others are still waiting


def test_a_sandbox_that_serves_only_the_api_never_builds_the_others(
    client: tuple[RunningSandbox, httpx.Client],
) -> None:
    running, http = client
    routes = list(running.app.router.routes)
    for path in ("/readyz", "/livez", "/api/v1/messages", "/api/v1/info", "/v1/nope", "/ui"):
        http.get(path)
    http.post("/api/v1/send", json={})
    assert running.app.router.routes == routes
    assert not any(isinstance(r, DirectRoute | PrefixRoute) for r in routes)
    assert not any(getattr(r, "path", "").startswith("/ui/message") for r in running.app.routes)


def test_listing_the_routes_includes_every_provider(
    client: tuple[RunningSandbox, httpx.Client],
) -> None:
    running, http = client
    paths = http.get("/api/v1/openapi.json").json()["paths"]
    assert {"/v3/mail/send", "/v3/{domain}/messages", "/api/v1/messages"} <= set(paths)
    assert not lazy_of(running).pending


def test_simultaneous_first_requests_include_the_routes_once(
    client: tuple[RunningSandbox, httpx.Client],
) -> None:
    running, http = client
    calls = [calls[2] for calls in CALLS.values()] * 4  # an error of each family
    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(lambda call: answer(call.send(http)), calls))
    assert answers == [answer(call.send(http)) for call in calls]
    routes = running.app.routes
    assert len(routes) == len({id(r) for r in routes})
    direct = [r.path for r in routes if isinstance(r, DirectRoute)]
    assert sorted(direct) == sorted(set(direct)) and len(direct) == 5


def test_the_routes_land_where_including_them_at_start_up_puts_them() -> None:
    async def endpoint(request: Request) -> Response:
        return Response()

    def route(path: str) -> Route:
        return Route(path, endpoint)

    def install(app: FastAPI) -> None:  # as include_first and an include_router do
        app.router.routes.insert(0, route("/p/first"))
        app.router.routes.append(route("/p/last"))

    def install_q(app: FastAPI) -> None:
        app.router.routes.insert(0, route("/q/first"))
        app.router.routes.append(route("/q/last"))

    families = {name: Family(name, claims_prefixes(f"/{name}/"), ESP_MANAGE) for name in "pq"}

    def layout(*included: str) -> list[str]:
        app = LazyRoutesApp()
        app.router.routes[:] = [route("/core")]
        lazy = lazy_routes.install(app)
        lazy.add(["p"], install)
        app.router.routes.append(route("/static"))  # added between the two units
        lazy.add(["q"], install_q)
        app.router.routes.append(route("/docs"))  # and after them
        for name in included:  # as a first request of that family would
            lazy.include(lazy.wanted_by({FAMILY_KEY: families[name]}))
        return [r.path for r in app.router.routes]  # type: ignore[attr-defined]

    at_start_up = ["/q/first", "/p/first", "/core", "/p/last", "/static", "/q/last", "/docs"]
    assert layout("p", "q") == layout("q", "p") == at_start_up
    assert layout("q") == ["/q/first", "/core", "/static", "/q/last", "/docs"]
    assert layout("p") == ["/p/first", "/core", "/p/last", "/static", "/docs"]


def test_the_app_lays_its_routes_out_as_installing_them_at_start_up_did(tmp_path: Path) -> None:
    """In any order of first requests, the table ends as it was when create_app installed every
    route at once (units that would interleave, providers sharing paths, are one unit)."""

    def table(app: FastAPI) -> list[tuple[str, Any, list[str]]]:
        return [
            (type(r).__name__, getattr(r, "path", getattr(r, "prefix", None)),
             [t.name for t in getattr(r, "tables", ())])
            for r in app.router.routes
        ]  # fmt: skip

    # At start-up: each unit's install ran straight on the table, after the routes added before
    # it was registered and before those added after.
    eager = create_app(make_settings(tmp_path))
    routes = eager.router.routes
    own, placed = list(routes), set[int]()
    routes.clear()
    for unit in lazy_routes_of(eager).units:
        routes.extend(r for r in own if id(r) in unit.before and id(r) not in placed)
        placed |= unit.before
        assert unit.install is not None
        unit.install(eager)
    routes.extend(r for r in own if id(r) not in placed)
    expected = table(eager)

    listed = create_app(make_settings(tmp_path))
    assert listed.routes  # listing them includes every unit
    assert table(listed) == expected
    units = len(lazy_routes_of(listed).units)
    for order in itertools.permutations(range(units)):
        fresh = create_app(make_settings(tmp_path))
        lazy = lazy_routes_of(fresh)
        for i in order:
            lazy.include([lazy.units[i]])
        assert table(fresh) == expected, order
