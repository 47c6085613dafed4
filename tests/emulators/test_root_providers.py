"""Postmark and Resend at the root of the sandbox: ``/webhooks`` and ``/templates``, which both
have, go to the one whose credentials the request carries (``X-Postmark-Server-Token``:
Postmark's, else Resend's); with ``--ui-auth`` their sends keep the provider's own key check,
their other routes need a key the sandbox enforces, and a cross-site form reaches none."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from mailsandbox.runner import RunningSandbox

POSTMARK = {"X-Postmark-Server-Token": "tok"}
RESEND = {"Authorization": "Bearer re_key"}
MAIL = {"From": "a@example.com", "To": "b@example.com", "Subject": "s", "TextBody": "t"}
EMAIL = {"from": "a@example.com", "to": "b@example.com", "subject": "s", "text": "t"}


def test_shared_webhooks_path_follows_the_credentials(api: httpx.Client) -> None:
    assert api.get("/webhooks", headers=POSTMARK).json() == {"Webhooks": []}
    assert api.get("/webhooks", headers=RESEND).json() == {
        "object": "list", "has_more": False, "data": []
    }  # fmt: skip
    neither = api.get("/webhooks")
    assert neither.status_code == 401 and neither.json()["name"] == "missing_api_key"
    assert api.get("/webhooks/1/x", headers=POSTMARK).json()["ErrorCode"] == 12
    assert api.get("/webhooks/1/x", headers=RESEND).json()["name"] == "not_found"
    assert api.get("/templates", headers=POSTMARK).json() == {"TotalCount": 0, "Templates": []}
    assert api.get("/templates", headers=RESEND).json()["object"] == "list"


def test_with_ui_auth_sends_keep_the_providers_check_and_the_rest_needs_an_enforced_key(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(ui_auth="admin:pw")
    with httpx.Client(base_url=running.url) as client:
        assert client.post("/email", headers=POSTMARK, json=MAIL).json()["ErrorCode"] == 0
        assert client.post("/emails", headers=RESEND, json=EMAIL).status_code == 200
        bare = client.post("/email", json=MAIL)  # Postmark's own refusal, in its shape
        assert bare.status_code == 401 and bare.json()["ErrorCode"] == 10
        # Management reads mail and configures webhooks: only with a key the sandbox enforces
        templates = client.get("/templates", headers=POSTMARK)
        assert templates.status_code == 401 and templates.json()["ErrorCode"] == 10
        assert "--postmark-server-token" in templates.json()["Message"]
        domains = client.get("/domains", headers=RESEND)
        assert domains.status_code == 401 and domains.json()["name"] == "missing_api_key"
        assert "--resend-api-key" in domains.json()["message"]
        assert client.get("/api/v1/messages").status_code == 401
        forged = client.post("/emails", headers={"Origin": "https://evil.example"}, json=EMAIL,
                             auth=("admin", "pw"))  # fmt: skip
        assert forged.status_code == 403 and forged.json()["statusCode"] == 403
        listed = client.get("/api/v1/messages", auth=("admin", "pw")).json()
        assert listed["total"] == 2


def test_with_ui_auth_and_enforced_keys_management_works(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(
        ui_auth="admin:pw", postmark_server_token=["tok"], resend_api_key=["re_key"]
    )
    with httpx.Client(base_url=running.url) as client:
        assert client.get("/templates", headers=POSTMARK).json() == {
            "TotalCount": 0, "Templates": []}  # fmt: skip
        assert client.get("/webhooks", headers=RESEND).json()["object"] == "list"
        test_token = client.get(
            "/templates", headers={"X-Postmark-Server-Token": "POSTMARK_API_TEST"}
        )
        assert test_token.status_code == 401  # public: never a key the sandbox enforces
        other = client.get("/domains", headers={"Authorization": "Bearer re_other"})
        assert other.status_code == 401 and other.json()["name"] == "missing_api_key"
