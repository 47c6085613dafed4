"""Bad input never becomes a 500: seeded random mutations of a full mail-send body, sent over
HTTP, must each be accepted (202, or 200 in sandbox mode) or refused in SendGrid's error
shape (400)."""

from __future__ import annotations

import base64
import copy
import random
from typing import Any

import httpx

from tests.emulators.sendgrid.helpers import mail_body

ODD_VALUES: list[Any] = [
    None, 0, -1, 3.5, True, "", "x", "a@b.c", "\r\n", "é" * 300, [], [1], ["a"], {}, {"k": 1},
    {"email": "x@example.com"}, {"enable": "yes"}, {"enable": True, "text": 5, "html": 7},
]  # fmt: skip


def _full_body() -> dict[str, Any]:
    return mail_body(
        personalizations=[
            {
                "to": [{"email": "bob@example.com", "name": "Bob"}],
                "cc": [{"email": "cc@example.com"}],
                "subject": "Own",
                "headers": {"X-A": "1"},
                "substitutions": {"-n-": "Bob"},
                "custom_args": {"k": "v"},
                "send_at": 1_700_000_000,
            }
        ],
        reply_to={"email": "r@example.com"},
        content=[
            {"type": "text/plain", "value": "Hi -n-"},
            {"type": "text/html", "value": "<p>Hi</p>"},
        ],
        attachments=[
            {
                "content": base64.b64encode(b"x").decode(),
                "filename": "x.png",
                "type": "image/png",
                "disposition": "inline",
                "content_id": "x",
            }
        ],
        sections={"-s-": "section"},
        headers={"X-B": "2"},
        categories=["c"],
        custom_args={"g": "h"},
        batch_id="b",
        asm={"group_id": 1},
        ip_pool_name="pool",
        mail_settings={
            "footer": {"enable": True, "text": "f", "html": "<p>f</p>"},
            "sandbox_mode": {"enable": False},
            "bypass_list_management": {"enable": False},
        },
        tracking_settings={
            "click_tracking": {"enable": True, "enable_text": False},
            "open_tracking": {"enable": True, "substitution_tag": "%open%"},
            "subscription_tracking": {"enable": False, "text": "u", "html": "<p>u</p>"},
        },
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _mutate(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(body))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
    return body


def test_random_mutations_never_500(shared_http: httpx.Client) -> None:
    rng = random.Random(20261126)
    base = _full_body()
    assert shared_http.post("/v3/mail/send", json=base).status_code == 202
    statuses = set()
    for _ in range(300):
        body = _mutate(base, rng)
        response = shared_http.post("/v3/mail/send", json=body)
        statuses.add(response.status_code)
        assert response.status_code in (200, 202, 400), (body, response.text)  # 200: sandbox mode
        if response.status_code == 400:
            errors = response.json()["errors"]
            assert errors and all(set(e) == {"message", "field", "help"} for e in errors)
    assert {202, 400} <= statuses
