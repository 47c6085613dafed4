"""Basic auth, Mailpit's CORS rule, and refusal of cross-origin state changes."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import send

Factory = Callable[..., RunningSandbox]


def test_basic_auth(sandbox_factory: Factory) -> None:
    running = sandbox_factory(ui_auth="user:p4ss:word")
    with httpx.Client(base_url=running.url) as anonymous:
        for path in ("/api/v1/messages", "/view/latest.html", "/", "/api/v1/stream"):
            response = anonymous.get(path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"] == 'Basic realm="Login"'
            assert response.text == "Unauthorized.\n"
        assert anonymous.get("/livez").status_code == 200
        assert anonymous.get("/readyz").status_code == 200
        assert anonymous.get("/api/v1/messages", auth=("user", "wrong")).status_code == 401
        garbage = {"Authorization": "Basic !!!not-base64"}
        assert anonymous.get("/api/v1/messages", headers=garbage).status_code == 401
    with httpx.Client(base_url=running.url, auth=("user", "p4ss:word")) as client:
        assert client.get("/api/v1/messages").status_code == 200
        send(client)


def test_no_auth_by_default(api: httpx.Client) -> None:
    assert api.get("/api/v1/messages").status_code == 200


def test_cors_rule(running: RunningSandbox, api: httpx.Client) -> None:
    own = {"Origin": running.url}
    allowed = api.get("/api/v1/messages", headers=own)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == running.url
    assert "PUT" in allowed.headers["access-control-allow-methods"]
    foreign = {"Origin": "https://evil.example"}
    blocked = api.get("/api/v1/messages", headers=foreign)
    assert blocked.status_code == 403 and blocked.text == "Blocked due to CORS violation"
    assert api.delete("/api/v1/messages", headers=foreign).status_code == 403
    assert api.post("/api/v1/send", headers=foreign, json={}).status_code == 403
    assert api.get("/view/latest.html", headers=foreign).status_code == 403
    preflight = api.options("/api/v1/messages", headers=own)
    assert preflight.status_code == 200 and preflight.text == ""
    assert api.get("/api/v1/messages").headers.get("access-control-allow-origin") is None


def test_foreign_origin_cannot_change_state(running: RunningSandbox, api: httpx.Client) -> None:
    send(api)
    evil = {"Origin": "http://attacker.test"}
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert api.request(method, "/some/ui/action", headers=evil).status_code == 403, method
    assert api.request("POST", "/some/ui/action", headers={"Origin": "null"}).status_code == 403
    assert api.get("/", headers=evil).status_code == 200  # reading the UI page is harmless
    assert api.get("/api/v1/messages").json()["total"] == 1
    # The ESP emulators are called server-to-server: no Origin rule there.
    assert api.post("/v3/mail/send", headers=evil, json={}).status_code != 403
