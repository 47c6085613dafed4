"""The send endpoints are served by plain Starlette routes in front of the app's routes; every
other method, the OpenAPI schema and the error answers stay those of the FastAPI routes."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from mailsandbox.emulators.hot_routes import DirectRoute, direct, include_first
from mailsandbox.runner import RunningSandbox


def test_send_routes_come_first(running: RunningSandbox) -> None:
    routes = running.app.routes  # (every route, the providers' included at once)
    assert isinstance(routes[0], DirectRoute)
    direct = [i for i, r in enumerate(routes) if isinstance(r, DirectRoute)]
    core = next(i for i, r in enumerate(routes) if getattr(r, "path", "").startswith("/api/"))
    assert max(direct) < core  # every send route ahead of the core API's
    paths = {routes[i].path for i in direct}  # type: ignore[attr-defined]
    assert paths == {
        "/v3/mail/send",
        "/v3/{domain:mgdomain}/messages",
        "/v3/{domain:mgdomain}/messages.mime",
        "/v2/email/outbound-emails",
        "/",  # SES v1 and SNS (POST only)
    }


def test_other_methods_reach_the_fastapi_routes(api: httpx.Client) -> None:
    wrong = api.get("/v3/mail/send")
    assert wrong.status_code == 405
    assert wrong.json() == {
        "errors": [{"message": "method not allowed", "field": None, "help": None}]
    }
    shapes = {
        "/v3/mail/send": wrong.json(),  # each provider's own error shape
        "/v3/mg.example.com/messages": {"message": "Method Not Allowed"},
    }
    for path, body in shapes.items():
        options = api.options(path)
        assert (options.status_code, options.headers["allow"]) == (405, "POST")
        assert options.json() == body
    assert api.get("/v3/mg.example.com/messages").status_code == 405
    moved = api.post("/v3/mail/send/", follow_redirects=False)  # redirect_slashes, as before
    assert (moved.status_code, moved.headers["location"]) == (307, f"{api.base_url}/v3/mail/send")


def test_errors_go_through_the_app_handlers(api: httpx.Client) -> None:
    answer = api.post("/v3/mail/send", content=b"{", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"errors": [{"message": "Bad Request", "field": None, "help": None}]}
    answer = api.post("/v3/mg.example.com/messages", data={"to": "a@example.com"})
    assert (answer.status_code, answer.json()) == (400, {"message": "'from' parameter is missing"})


def test_schema_still_lists_the_send_route(api: httpx.Client) -> None:
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/v3/mail/send"]


def test_a_direct_endpoint_takes_only_the_request() -> None:
    router = APIRouter()

    async def dependency(request: Request) -> str:
        return "x"

    @router.post("/x")
    @direct
    async def endpoint(request: Request, key: str = Depends(dependency)) -> Response:
        return Response()

    with pytest.raises(TypeError, match="only the Request"):
        include_first(FastAPI(), router)
