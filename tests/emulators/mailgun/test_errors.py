"""Every validation error answers with Mailgun's status and body, never a 500.

Expected texts: the error table of mailgun/documentation ``source/api-sending.rst`` ("Error
codes"), except the quoted parameter names and the body requirement, where the live service's
answers (mailgun.js#92, django-anymail#424) are the reference; see docs/mailgun.md."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, formatdate
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
            "tomorrow is not an RFC-2822 compliant date",
        ),
        (
            without(**{"o:deliverytime": formatdate(time.time() + 3 * 86400 + 600)}),
            "Messages can be scheduled for a maximum of 3 days in the future",
        ),
        (
            without(html="<p>x</p>", template="welcome"),
            "Only one parameters 'html' or 'template' is allowed",
        ),
        (
            without(**{"o:tracking-clicks": "sometimes"}),
            "'o:tracking-clicks' parameter is not valid: sometimes",
        ),
        (
            without(**{"recipient-variables": "{not json"}),
            "'recipient-variables' parameter is not a valid JSON",
        ),
        (
            without(**{"recipient-variables": "[1, 2]"}),
            "'recipient-variables' parameter is not a valid JSON",
        ),
        (without(**{"t:variables": "nope"}), "'t:variables' parameter is not a valid JSON"),
        (without("text", template="missing-template"), "template not found"),
        (
            without(**{"v:big": "x" * 17000}),
            "Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total",
        ),
        (
            without(**{"h:X-Big": "é" * 8200}),  # 16,400 bytes in UTF-8: the limit is in bytes
            "Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total",
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


def test_more_than_1000_recipients_are_refused(api: httpx.Client) -> None:
    """A batch (recipient-variables) of 1001 ``to``, and a plain send to 1001 addresses in all:
    "Too many recipients, max is 1000"; exactly 1000 is fine."""
    many = [f"user{i}@example.com" for i in range(1001)]
    too_many = {"message": "Too many recipients, max is 1000"}
    batch = without("to", to=many, **{"recipient-variables": json.dumps({})})
    plain = without("to", to=many[:600], cc=many[600:800], bcc=many[800:])
    for data in (batch, plain):
        answer = api.post(URL, data=data)
        assert (answer.status_code, answer.json()) == (400, too_many)
    assert stored(api) == []
    answer = api.post(URL, data=without("to", to=many[:1000], **{"o:testmode": "yes"}))
    assert answer.status_code == 200


def test_request_over_the_size_limit_is_413(shared_api: httpx.Client) -> None:
    """ "413 request size exceeds 52.4MiB limit" (error table), with or without Content-Length;
    a 30 MB request is under it."""
    big = b"x" * int(52.4 * 1024 * 1024)
    answer = shared_api.post(URL, data=GOOD, files=[("attachment", ("big.bin", big))])
    assert (answer.status_code, answer.json()) == (
        413,
        {"message": "request size exceeds 52.4MiB limit"},
    )

    def chunks() -> Any:
        yield b"from=a%40mg.example.com&to=b%40example.com&text="
        yield b"x" * len(big)

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = shared_api.post(URL, content=chunks(), headers=headers)  # chunked: no length
    assert answer.status_code == 413
    assert stored(shared_api) == []


def test_mime_send_errors(shared_api: httpx.Client) -> None:
    """messages.mime: ``message`` must be a file part (error table: "'message' parameter is
    not a file"), and present."""
    mime_url = f"/v3/{DOMAIN}/messages.mime"
    answer = shared_api.post(mime_url, data={"to": "b@example.com"})
    assert (answer.status_code, answer.json()) == (
        400,
        {"message": "'message' parameter is missing"},
    )
    mime = "From: a@mg.example.com\r\nSubject: x\r\n\r\nbody"
    answer = shared_api.post(mime_url, data={"to": "b@example.com", "message": mime})
    assert (answer.status_code, answer.json()) == (
        400,
        {"message": "'message' parameter is not a file"},
    )
    answer = shared_api.post(mime_url, files={"message": ("m", b"Subject: x\r\n\r\nbody")})
    assert (answer.status_code, answer.json()) == (400, {"message": "'to' parameter is missing"})
    assert stored(shared_api) == []


def test_deliverytime_takes_rfc_2822_or_epoch_up_to_3_days(api: httpx.Client) -> None:
    """User manual, "Scheduling Delivery": RFC 2822 or Unix epoch."""
    soon = time.time() + 3 * 86400 - 600
    for when in (format_datetime(datetime.fromtimestamp(soon, UTC)), str(int(soon))):
        answer = api.post(URL, data=without(**{"o:deliverytime": when}))
        assert answer.status_code == 200, answer.text
    assert len(stored(api)) == 2


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
