"""``/api/docs`` is served by the sandbox itself (works offline) and the OpenAPI document lists
every route a user calls, Mailgun's included (issue 11 §5)."""

from __future__ import annotations

import re

import httpx


def test_the_docs_page_references_only_its_own_assets(api: httpx.Client) -> None:
    page = api.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    references = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert references, page.text
    for reference in references:
        assert reference.startswith(("/", "data:")) and not reference.startswith("//"), reference
        if reference.startswith("/"):
            asset = api.get(reference)
            assert asset.status_code == 200, reference
            assert asset.content, reference
    assert "cdn" not in page.text.lower()
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert '"/api/v1/openapi.json"' in page.text


def test_the_vendored_files_carry_their_licence(api: httpx.Client) -> None:
    licence = api.get("/api/docs/assets/swagger-ui-LICENSE")
    assert licence.status_code == 200 and "Apache License" in licence.text
    assert api.get("/api/docs/assets/swagger-ui-NOTICE").text.startswith("swagger-ui")
    assert api.get("/api/docs/assets/../../config.py").status_code == 404
    assert api.get("/api/docs/assets/nope.js").status_code == 404


def test_openapi_lists_the_routes_users_call(api: httpx.Client) -> None:
    spec = api.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/v3/mail/send": "post",  # SendGrid send
        "/v3/suppression/{list_name}": "get",
        "/v3/user/webhooks/event/settings": "patch",
        "/v3/{domain}/messages": "post",  # Mailgun send
        "/v3/{domain}/messages.mime": "post",
        "/v3/{domain}/events": "get",
        "/v3/{domain}/{table}": "get",  # Mailgun suppressions
        "/v3/domains/{domain}/webhooks": "post",
        "/v5/accounts/http_signing_key": "get",
        "/api/v1/messages": "get",
        "/api/v1/message/{message_id}/events": "post",
        "/api/v1/webhooks/deliveries": "get",
        "/api/v1/wait": "get",
        "/view/{message_id}.html": "get",
        "/t/open/{token}.gif": "get",
    }
    for path, method in expected.items():
        assert method in paths.get(path, {}), path
    tags = {
        tag
        for operations in paths.values()
        for op in operations.values()
        for tag in op.get("tags", [])
    }
    assert {"SendGrid", "Mailgun"} <= tags
