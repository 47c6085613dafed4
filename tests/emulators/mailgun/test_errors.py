"""Every validation error answers with Mailgun's status and body, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from mailgun.client import Client

from mailsandbox.runner import RunningSandbox
from tests.emulators.mailgun.conftest import DOMAIN, stored

GOOD = {"from": "a@mg.example.com", "to": "b@example.com", "subject": "s", "text": "t"}
URL = f"/v3/{DOMAIN}/messages"
NO_BODY = "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"


def without(*keys: str, **extra: Any) -> dict[str, Any]:
    data = {k: v for k, v in GOOD.items() if k not in keys}
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (without("from"), "'from' parameter is missing"),
        (
            without("from", **{"from": "not an address"}),
            "'from' parameter is not a valid address. please check documentation",
        ),
        (without("to"), "'to' parameter is missing"),
        (
            without("to", to="nobody"),
            "'to' parameter is not a valid address. please check documentation",
        ),
        (without(cc="bad@"), "'cc' parameter is not a valid address. please check documentation"),
        (without("text"), NO_BODY),
        (without("text", text="   "), NO_BODY),
        (
            without(**{"o:tag": ["a", "b", "c", "d"]}),
            "Too many tags: a message can have at most 3 tags",
        ),
        (without(**{"o:tag": "x" * 129}), f"Invalid tag: {'x' * 129!r} (ASCII, at most 128 chars)"),
        (
            without(**{"o:testmode": "maybe"}),
            "'o:testmode' parameter is not a valid boolean: maybe",
        ),
        (
            without(**{"o:deliverytime": "tomorrow"}),
            "'o:deliverytime' parameter is not a valid date: tomorrow",
        ),
        (
            without(**{"o:tracking-clicks": "sometimes"}),
            "'o:tracking-clicks' parameter is not valid: sometimes",
        ),
        (
            without(**{"recipient-variables": "{not json"}),
            "recipient-variables parameter is not a valid JSON",
        ),
        (
            without(**{"recipient-variables": "[1, 2]"}),
            "recipient-variables parameter is not a valid JSON",
        ),
        (without(**{"t:variables": "nope"}), "t:variables parameter is not a valid JSON"),
        (without("text", template="missing-template"), "template not found"),
        (
            without(**{"v:big": "x" * 17000}),
            "Size of your options (o:, h:, v:, t:) exceeds 16KB limit",
        ),
    ],
)
def test_bad_sends_get_400_with_mailgun_message(
    shared_api: httpx.Client, data: dict[str, Any], message: str
) -> None:
    answer = shared_api.post(URL, data=data, auth=("api", "key-x"))
    assert answer.status_code == 400
    assert answer.json() == {"message": message}
    assert stored(shared_api) == []


def test_batch_over_1000_recipients_is_refused(shared_api: httpx.Client) -> None:
    to = [f"user{i}@example.com" for i in range(1001)]
    data = without("to", to=to, **{"recipient-variables": json.dumps({})})
    answer = shared_api.post(URL, data=data)
    assert answer.status_code == 400
    assert answer.json() == {"message": "Too many recipients: batch sending is limited to 1000"}


def test_message_over_25_mb_is_413(shared_api: httpx.Client) -> None:
    big = b"x" * (25 * 1024 * 1024 + 1)
    answer = shared_api.post(URL, data=GOOD, files=[("attachment", ("big.bin", big))])
    assert answer.status_code == 413
    assert "25MB" in answer.json()["message"]


def test_mime_send_errors(shared_api: httpx.Client) -> None:
    mime_url = f"/v3/{DOMAIN}/messages.mime"
    answer = shared_api.post(mime_url, data={"to": "b@example.com"})
    assert (answer.status_code, answer.json()) == (
        400,
        {"message": "'message' parameter is missing"},
    )
    answer = shared_api.post(mime_url, files={"message": ("m", b"Subject: x\r\n\r\nbody")})
    assert (answer.status_code, answer.json()) == (400, {"message": "'to' parameter is missing"})


def test_keys_are_enforced_only_when_configured(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(mailgun_api_key=["key-good", "key-other"])
    with Client(auth=("api", "key-bad"), api_url=running.url) as mg:
        answer = mg.messages.create(domain=DOMAIN, data=GOOD)
    assert answer.status_code == 401
    assert answer.text == "Forbidden"
    assert answer.headers["content-type"].startswith("text/plain")
    with httpx.Client(base_url=running.url) as client:
        assert client.post(URL, data=GOOD).status_code == 401  # no credentials at all
        assert client.post(URL, data=GOOD, auth=("user", "key-good")).status_code == 401
        assert client.get(f"/v3/{DOMAIN}/events").status_code == 401
        assert client.get("/v5/accounts/http_signing_key").status_code == 401
        ok = client.post(URL, data=GOOD, auth=("api", "key-other"))
        assert ok.status_code == 200
        [summary] = stored(client)
    assert summary["MessageID"] == ok.json()["id"].strip("<>")


def test_domains_are_restricted_only_when_configured(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(mailgun_domain=[DOMAIN])
    with Client(auth=("api", "key-x"), api_url=running.url) as mg:
        answer = mg.messages.create(domain="other.example.org", data=GOOD)
        assert answer.status_code == 404
        assert answer.json() == {"message": "Domain not found: other.example.org"}
        assert mg.bounces.get(domain="other.example.org").status_code == 404
        assert mg.domains_webhooks.get(domain="other.example.org").status_code == 404
        assert mg.messages.create(domain=DOMAIN, data=GOOD).status_code == 200


def test_dotless_segments_are_not_mailgun_domains(shared_api: httpx.Client) -> None:
    answer = shared_api.post("/v3/localhost/messages", data=GOOD)
    assert answer.status_code == 404
    assert stored(shared_api) == []


def test_bad_events_parameters(shared_api: httpx.Client) -> None:
    base = f"/v3/{DOMAIN}/events"
    assert shared_api.get(base, params={"limit": "lots"}).status_code == 400
    assert shared_api.get(base, params={"begin": "yesterday-ish"}).json() == {
        "message": "Invalid 'begin' value: yesterday-ish"
    }
    assert shared_api.get(base, params={"event": "exploded"}).json() == {
        "message": "Invalid event type: exploded"
    }
    assert shared_api.get(f"{base}/not-a-token!").status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", URL, {"json": {"from": "a@b.c"}}),
        (
            "POST",
            URL,
            {
                "content": b"--x\r\nbroken",
                "headers": {"Content-Type": "multipart/form-data; boundary=x"},
            },
        ),
        ("POST", URL, {"data": without(**{"h:X-Mailgun-Variables": "{bad"})}),
        ("POST", URL, {"data": without(**{"o:tag": "ünïcode"})}),
        ("POST", URL, {"data": without("text", template="t", **{"t:version": "nope"})}),
        ("GET", f"/v3/{DOMAIN}/events", {"params": {"recipient": "NOT ()"}}),
        ("GET", f"/v3/{DOMAIN}/events", {"params": {"tags": "()"}}),
        ("GET", f"/v3/{DOMAIN}/events", {"params": {"ascending": "sideways"}}),
        ("GET", f"/v3/{DOMAIN}/events/InN0cmluZyI", {}),
        ("GET", f"/v3/{DOMAIN}/events/WyJ4Il0", {}),
        ("GET", f"/v3/{DOMAIN}/templates", {"params": {"limit": "x"}}),
        (
            "POST",
            f"/v3/{DOMAIN}/templates",
            {"data": {"name": "t", "template": "x", "active": "?"}},
        ),
        ("POST", f"/v3/{DOMAIN}/templates", {"data": {}}),
        ("GET", f"/v3/{DOMAIN}/bounces", {"params": {"limit": "-3"}}),
        (
            "POST",
            f"/v3/{DOMAIN}/complaints",
            {"content": b'{"address": 5}', "headers": {"Content-Type": "application/json"}},
        ),
        ("POST", f"/v3/{DOMAIN}/bounces/import", {"data": {"x": "y"}}),
        ("PUT", f"/v3/domains/{DOMAIN}/webhooks/nope/test", {"data": {"url": "http://x"}}),
        ("PUT", f"/v3/domains/{DOMAIN}/webhooks/opened/test", {"data": {}}),
    ],
)
def test_odd_requests_never_500(
    shared_api: httpx.Client, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    answer = shared_api.request(method, path, **kwargs)
    assert 400 <= answer.status_code < 500, answer.text
    assert "message" in answer.json()
