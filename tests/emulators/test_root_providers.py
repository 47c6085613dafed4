"""Postmark and Resend at the root of the sandbox: ``/webhooks`` and ``/templates``, which both
have, go to the one whose credentials the request carries; both are exempt from ``--ui-auth``
only with their own credentials header, and a cross-site form cannot reach them."""

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


def test_ui_auth_exemption_needs_the_providers_header(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(ui_auth="admin:pw")
    with httpx.Client(base_url=running.url) as client:
        assert client.post("/email", headers=POSTMARK, json=MAIL).json()["ErrorCode"] == 0
        assert client.post("/emails", headers=RESEND, json=EMAIL).status_code == 200
        bare = client.post("/email", json=MAIL)
        assert bare.status_code == 401 and bare.text == "Unauthorized.\n"
        assert client.get("/domains").status_code == 401
        assert client.get("/api/v1/messages").status_code == 401
        forged = client.post("/emails", headers={"Origin": "https://evil.example"}, json=EMAIL,
                             auth=("admin", "pw"))  # fmt: skip
        assert forged.status_code == 403
        listed = client.get("/api/v1/messages", auth=("admin", "pw")).json()
        assert listed["total"] == 2
