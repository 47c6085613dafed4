"""API keys and the simulated rate limit, through the official SDK."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from python_http_client.exceptions import TooManyRequestsError, UnauthorizedError
from sendgrid import SendGridAPIClient

from mailsandbox.runner import RunningSandbox
from tests.emulators.sendgrid.helpers import listed, mail_body

INVALID = "The provided authorization grant is invalid, expired, or revoked"


def test_any_key_is_accepted_by_default_and_names_the_inbox(
    running: RunningSandbox, http: httpx.Client
) -> None:
    for key in ("SG.one", "no-prefix-key"):
        response = SendGridAPIClient(key, host=running.url).client.mail.send.post(
            request_body=mail_body()
        )
        assert response.status_code == 202
    inboxes = sorted(
        running.sandbox.db.read_sync(
            lambda conn: [r[0] for r in conn.execute("SELECT inbox FROM messages")]
        )
    )
    assert inboxes == ["SG.one", "no-prefix-key"]


def test_missing_header_is_inbox_default_when_keys_are_not_enforced(
    running: RunningSandbox, http: httpx.Client
) -> None:
    assert http.post("/v3/mail/send", json=mail_body()).status_code == 202
    assert listed(http)[0]["ID"]
    inbox = running.sandbox.db.read_sync(
        lambda conn: conn.execute("SELECT inbox FROM messages").fetchone()[0]
    )
    assert inbox == "default"


def test_enforced_keys_refuse_others_with_sendgrids_401(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(sendgrid_api_key=["SG.good", "SG.other"])
    with pytest.raises(UnauthorizedError) as caught:
        SendGridAPIClient("SG.wrong", host=running.url).client.mail.send.post(
            request_body=mail_body()
        )
    assert caught.value.status_code == 401
    assert caught.value.to_dict == {"errors": [{"message": INVALID, "field": None, "help": None}]}
    with httpx.Client(base_url=running.url) as http:
        missing = http.post("/v3/mail/send", json=mail_body())
        assert missing.status_code == 401
        assert missing.json()["errors"][0]["message"] == "authorization required"
        templates = http.get("/v3/templates", headers={"Authorization": "Bearer SG.nope"})
        assert templates.status_code == 401
        assert listed(http) == []
    ok = SendGridAPIClient("SG.other", host=running.url).client.mail.send.post(
        request_body=mail_body()
    )
    assert ok.status_code == 202


def test_rate_limit_answers_429_with_headers(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(sendgrid_rate_limit="3/m")
    sg = SendGridAPIClient("SG.limited", host=running.url)
    for _ in range(3):
        assert sg.client.mail.send.post(request_body=mail_body()).status_code == 202
    with pytest.raises(TooManyRequestsError) as caught:
        sg.client.mail.send.post(request_body=mail_body())
    assert caught.value.status_code == 429
    assert caught.value.to_dict["errors"][0]["message"] == "too many requests"
    headers = caught.value.headers
    assert headers["X-RateLimit-Limit"] == "3"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert int(headers["X-RateLimit-Reset"]) % 60 == 0
    other = SendGridAPIClient("SG.other-key", host=running.url)
    assert other.client.mail.send.post(request_body=mail_body()).status_code == 202
