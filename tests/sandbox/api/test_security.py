"""The HTTP guards with crafted headers: Basic auth, Mailpit's CORS rule, requests from other
sites (Origin, Sec-Fetch-*), the Host allowlist (DNS rebinding), and what ``--ui-auth`` asks of
the ESP routes. Each case of issue 14 is here with its exact input; every refused request is
also checked to have changed nothing the sandbox stores."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import PNG, send
from tests.state import changed_tables, settled_message, snapshot

Factory = Callable[..., RunningSandbox]
DOMAIN = "mg.example.com"
SAME_SITE = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "empty"}
CROSS_SITE = {
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Dest": "empty",
}
NAVIGATION = {
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
}
IMAGE_LOAD = {
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Dest": "image",
}


@pytest.fixture
def guarded(running: RunningSandbox, api: httpx.Client) -> Iterator[str]:
    """A message; the test must leave every table exactly as it found it."""
    message_id = settled_message(running, "Secret code 424242")
    before = snapshot(running)
    yield message_id
    assert changed_tables(before, snapshot(running)) == []


# The attacks of issue 14 (webhook registration, suppressions, spoofed mail on /v3 and /v5),
# as a browser sends them from a page on another port of localhost.
ESP_WRITES = [
    ("POST", "/v3/user/webhooks/event/settings", {"url": "http://127.0.0.1:9/steal"}),
    ("PATCH", "/v3/user/webhooks/event/settings", {"enabled": True, "url": "http://x.test/"}),
    ("POST", "/v3/user/webhooks/event/test", {"url": "http://127.0.0.1:9/probe"}),
    ("POST", "/v3/suppression/bounces", [{"email": "ann@example.com"}]),
    ("POST", "/v3/asm/suppressions/global", {"recipient_emails": ["ann@example.com"]}),
    (
        "POST",
        "/v3/mail/send",
        {
            "personalizations": [{"to": [{"email": "ann@example.com"}]}],
            "from": {"email": "ceo@example.com"},
            "subject": "spoofed",
            "content": [{"type": "text/plain", "value": "x"}],
        },
    ),
]
MAILGUN_FORMS = [
    ("POST", f"/v3/domains/{DOMAIN}/webhooks", {"id": "delivered", "url": "http://x.test/"}),
    ("PUT", f"/v3/domains/{DOMAIN}/webhooks/delivered/test", {"url": "http://127.0.0.1:9/"}),
    ("POST", f"/v3/{DOMAIN}/bounces", {"address": "ann@example.com"}),
    (
        "POST",
        f"/v3/{DOMAIN}/messages",
        {"from": "ceo@example.com", "to": "ann@example.com", "subject": "spoofed", "text": "x"},
    ),
]


@pytest.mark.parametrize("site", [SAME_SITE, CROSS_SITE], ids=["same-site", "cross-site"])
def test_no_other_site_can_drive_the_esp_emulators(
    api: httpx.Client, guarded: str, site: dict[str, str]
) -> None:
    for method, path, body in ESP_WRITES:
        # a no-cors fetch: no Origin for GET, text/plain for the body
        refused = api.request(method, path, json=body, headers=site)
        assert refused.status_code == 403, (method, path, refused.text)
        assert "refused" in refused.json()["errors"][0]["message"]
    for method, path, form in MAILGUN_FORMS:
        refused = api.request(method, path, data=form, headers=site)
        assert refused.status_code == 403, (method, path, refused.text)
        assert "refused" in refused.json()["message"]
    for path in ("/v5/accounts/http_signing_key", f"/v3/{DOMAIN}/events"):
        assert api.get(path, headers=site).status_code == 403, path


def test_a_foreign_origin_is_refused_on_every_path(api: httpx.Client, guarded: str) -> None:
    for origin in ("http://127.0.0.1:1", "http://localhost:3000", "https://evil.example", "null"):
        headers = {"Origin": origin}
        for method, path, body in ESP_WRITES:
            assert api.request(method, path, json=body, headers=headers).status_code == 403
        for method, path, form in MAILGUN_FORMS:
            assert api.request(method, path, data=form, headers=headers).status_code == 403
        blocked = api.delete("/api/v1/messages", headers=headers)
        assert (blocked.status_code, blocked.text) == (403, "Blocked due to CORS violation")
        assert api.post("/ui/messages/delete-all", headers=headers).status_code == 403
        assert api.get(f"/api/v1/message/{guarded}", headers=headers).status_code == 403


def test_reads_that_mark_mail_read_are_refused_cross_site(api: httpx.Client, guarded: str) -> None:
    for path in (
        "/api/v1/message/latest",
        f"/api/v1/message/{guarded}",
        "/view/latest.html",
        f"/view/{guarded}.txt",
        "/api/v1/messages",
        "/api/v1/stream",
        "/ui/events",
    ):
        for site in (SAME_SITE, CROSS_SITE):
            assert api.get(path, headers=site).status_code == 403, (path, site)


def test_ui_actions_need_proof_of_our_own_page(
    running: RunningSandbox, api: httpx.Client, guarded: str
) -> None:
    url = f"/ui/message/{guarded}/delete"
    assert api.post(url).status_code == 403  # no Origin and no proof it came from our page
    assert api.post(url, headers={"Origin": "null"}).status_code == 403  # a sandboxed frame
    assert api.post(url, headers={**CROSS_SITE, "HX-Request": "true"}).status_code == 403
    assert api.post("/ui/messages/read-all", headers=SAME_SITE).status_code == 403


def test_our_own_pages_and_server_side_clients_pass(running: RunningSandbox) -> None:
    with httpx.Client(base_url=running.url, timeout=30) as api:
        message_id = send(api)
        own = {"Origin": running.url, "Sec-Fetch-Site": "same-origin", "HX-Request": "true"}
        assert api.post(f"/ui/message/{message_id}/unread", headers=own).status_code == 200
        typed = {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"}  # the address bar
        assert api.get(f"/api/v1/message/{message_id}", headers=typed).status_code == 200
        for method, path, body in ESP_WRITES[:2]:
            assert api.request(method, path, json=body).status_code in (200, 201), path


def test_top_level_navigation_may_open_ui_pages_but_changes_nothing(
    api: httpx.Client, guarded: str
) -> None:
    # A link on another site to the inbox or a message works, and does not mark it read.
    assert api.get("/", headers=NAVIGATION).status_code == 200
    page = api.get(f"/view/{guarded}", headers=NAVIGATION)
    assert page.status_code == 200 and "Secret code 424242" in page.text
    assert api.get("/api/v1/messages").json()["unread"] == 1
    # Not as a frame, not fetched, and never an API path.
    framed = {**NAVIGATION, "Sec-Fetch-Dest": "iframe"}
    assert api.get(f"/view/{guarded}", headers=framed).status_code == 403
    assert api.get("/", headers=CROSS_SITE).status_code == 403
    assert api.get(f"/view/{guarded}.html", headers=NAVIGATION).status_code == 403
    assert api.get("/api/v1/messages", headers=NAVIGATION).status_code == 403


def test_sandboxed_message_documents_may_load_parts_by_id_only(api: httpx.Client) -> None:
    attachment = {
        "Content": base64.b64encode(PNG).decode(),
        "Filename": "p.png",
        "ContentID": "pic",
    }
    message_id = send(api, HTML='<img src="cid:pic">', Attachments=[attachment])
    from_view = {**IMAGE_LOAD, "Origin": "null"}  # what Chromium sends from a sandboxed frame
    for path in (f"/api/v1/message/{message_id}/part/2", f"/ui/message/{message_id}/part/2"):
        for headers in (IMAGE_LOAD, from_view):
            loaded = api.get(path, headers=headers)
            assert (loaded.status_code, loaded.content) == (200, PNG), path
    latest = api.get("/api/v1/message/latest/part/2", headers=IMAGE_LOAD)
    assert latest.status_code == 404  # "latest" is not resolved for another site
    assert api.get("/api/v1/message/latest/part/2").content == PNG  # but is for our own
    fetched = {**IMAGE_LOAD, "Sec-Fetch-Dest": "empty"}  # fetch(), not <img>
    assert api.get(f"/api/v1/message/{message_id}/part/2", headers=fetched).status_code == 403
    assert api.get(f"/api/v1/message/{message_id}/raw", headers=from_view).status_code == 403


def test_the_streams_check_origin(running: RunningSandbox) -> None:
    with httpx.Client(base_url=running.url, timeout=10) as api:
        for path in ("/api/v1/stream", "/ui/events"):
            for origin in ("http://127.0.0.1:1", "http://evil.example"):
                refused = api.get(path, headers={"Origin": origin})
                assert refused.status_code == 403, (path, origin)
            for headers in ({}, {"Origin": running.url}):  # Node/Python clients; our page
                with api.stream("GET", path, headers=headers) as stream:
                    assert stream.status_code == 200
                    assert stream.headers["content-type"].startswith("text/event-stream")


def test_sendgrid_requires_json_as_the_real_api_does(api: httpx.Client) -> None:
    body = b'{"personalizations":[{"to":[{"email":"a@example.com"}]}]}'
    expected = {
        "errors": [
            {"message": "Content-Type should be application/json.", "field": None, "help": None}
        ]
    }
    for content_type in (
        None,
        "text/plain",
        "text/plain; json",
        "application/x-www-form-urlencoded",
    ):
        headers = {"Content-Type": content_type} if content_type else {}
        for path in ("/v3/mail/send", "/v3/suppression/bounces"):
            answer = api.post(path, content=body, headers=headers)
            assert (answer.status_code, answer.json()) == (415, expected), (path, content_type)
    assert api.get("/api/v1/messages").json()["total"] == 0
    assert api.get("/v3/suppression/bounces").json() == []


# --- DNS rebinding --------------------------------------------------------------------------
REBOUND_REQUESTS = [
    ("GET", "/api/v1/messages"),
    ("DELETE", "/api/v1/messages"),
    ("GET", "/"),
    ("POST", "/v3/mail/send"),
    ("GET", "/livez"),
]


def test_a_rebound_host_name_is_refused(running: RunningSandbox, api: httpx.Client) -> None:
    send(api)
    hosts = {
        "attacker.example": "attacker.example",
        f"Attacker.Example:{running.http_port}": "attacker.example",
        "localhost.evil.test": "localhost.evil.test",
    }
    for host, name in hosts.items():
        for method, path in REBOUND_REQUESTS:
            refused = api.request(method, path, headers={"Host": host})
            assert refused.status_code == 403, (host, path)
            assert f"--allow-host {name}" in refused.text
    assert api.get("/api/v1/messages").json()["total"] == 1
    for host in ("localhost", "LOCALHOST:8025", "app.localhost", "127.0.0.1", "[::1]:8025",
                 "192.168.1.20:8025", "localhost."):  # fmt: skip
        assert api.get("/api/v1/messages", headers={"Host": host}).status_code == 200, host


def test_allow_host_adds_names(sandbox_factory: Factory) -> None:
    running = sandbox_factory(allow_host=["mailsandbox", "Mail.Test"])
    with httpx.Client(base_url=running.url, timeout=10) as api:
        for host in ("mailsandbox:8025", "mail.test", "localhost"):
            assert api.get("/livez", headers={"Host": host}).status_code == 200, host
        assert api.get("/livez", headers={"Host": "other.test"}).status_code == 403
    anything = sandbox_factory(allow_host=["*"])
    with httpx.Client(base_url=anything.url, timeout=10) as api:
        assert api.get("/livez", headers={"Host": "other.test"}).status_code == 200


# --- Origins allowed by flag --------------------------------------------------------------
def test_allow_origin_lets_a_frontend_call_the_api(sandbox_factory: Factory) -> None:
    frontend = "http://localhost:3000"
    running = sandbox_factory(allow_origin=[frontend + "/"], ui_auth="u:p")
    with httpx.Client(base_url=running.url, timeout=10, auth=("u", "p")) as api:
        headers = {"Origin": frontend, "Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"}
        listed = api.get("/api/v1/messages", headers=headers)
        assert listed.status_code == 200
        assert listed.headers["access-control-allow-origin"] == frontend
        # A preflight carries no credentials: it is answered before Basic auth.
        preflight = httpx.options(
            running.url + "/api/v1/messages",
            headers={**headers, "Access-Control-Request-Method": "DELETE"},
        )
        assert preflight.status_code == 200
        assert "DELETE" in preflight.headers["access-control-allow-methods"]
        other = api.get("/api/v1/messages", headers={**headers, "Origin": "http://localhost:3001"})
        assert other.status_code == 403


def test_mailpit_cors_rule(running: RunningSandbox, api: httpx.Client) -> None:
    own = {"Origin": running.url}
    allowed = api.get("/api/v1/messages", headers=own)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == running.url
    assert "PUT" in allowed.headers["access-control-allow-methods"]
    preflight = api.options("/api/v1/messages", headers=own)
    assert preflight.status_code == 200 and preflight.text == ""
    assert api.get("/api/v1/messages").headers.get("access-control-allow-origin") is None


# --- Credentials ----------------------------------------------------------------------------
def test_basic_auth(sandbox_factory: Factory) -> None:
    running = sandbox_factory(ui_auth="user:p4ss:word")
    with httpx.Client(base_url=running.url) as anonymous:
        for path in (
            "/api/v1/messages",
            "/view/latest.html",
            "/",
            "/api/v1/stream",
            "/t/open/x.gif",
        ):
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


def test_ui_auth_protects_esp_routes_that_read_or_configure(sandbox_factory: Factory) -> None:
    """Sending keeps working with the provider's own key; reading stored mail, events, the
    signing key or changing webhooks needs a key the sandbox enforces."""
    running = sandbox_factory(ui_auth="admin:secret")
    with httpx.Client(base_url=running.url, timeout=30) as api:
        sent = api.post(
            f"/v3/{DOMAIN}/messages",
            auth=("api", "key-anything"),
            data={"from": "a@example.com", "to": "b@example.com", "subject": "s", "text": "t"},
        )
        assert sent.status_code == 200, sent.text
        mailed = api.post(
            "/v3/mail/send",
            headers={"Authorization": "Bearer SG.anything"},
            json={
                "personalizations": [{"to": [{"email": "b@example.com"}]}],
                "from": {"email": "a@example.com"},
                "subject": "s",
                "content": [{"type": "text/plain", "value": "t"}],
            },
        )
        assert mailed.status_code == 202, mailed.text
        storage_key = "x" * 20
        for path in (
            f"/v3/domains/{DOMAIN}/messages/{storage_key}",
            f"/v3/{DOMAIN}/events",
            "/v5/accounts/http_signing_key",
            f"/v3/domains/{DOMAIN}/webhooks",
        ):
            refused = api.get(path, auth=("api", "key-anything"))
            assert refused.status_code == 401, path
            assert "--mailgun-api-key" in refused.json()["message"]
        bearer = {"Authorization": "Bearer SG.anything"}
        refused = api.get("/v3/suppression/bounces", headers=bearer)
        assert refused.status_code == 401
        assert "--sendgrid-api-key" in refused.json()["errors"][0]["message"]
        assert api.get("/api/v1/messages").status_code == 401

    enforced = sandbox_factory(
        ui_auth="admin:secret", mailgun_api_key=["key-real"], sendgrid_api_key=["SG.real"]
    )
    with httpx.Client(base_url=enforced.url, timeout=30) as api:
        assert api.get(f"/v3/{DOMAIN}/events", auth=("api", "key-real")).status_code == 200
        signing = api.get("/v5/accounts/http_signing_key", auth=("api", "key-real"))
        assert signing.status_code == 200 and signing.json()["http_signing_key"]
        assert api.get("/v5/accounts/http_signing_key", auth=("api", "key-x")).status_code == 401
        real = {"Authorization": "Bearer SG.real"}
        assert api.get("/v3/suppression/bounces", headers=real).status_code == 200
