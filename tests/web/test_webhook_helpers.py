"""Webhook bits of the UI without a browser: missing emulator keys, redaction, re-check timing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import httpx

from mailsandbox.runner import RunningSandbox
from mailsandbox.runtime import Sandbox
from mailsandbox.web.queries import WebhookLog
from mailsandbox.web.render import redact_url, time_until
from mailsandbox.web.rules import signing_keys


def test_missing_emulator_keys_are_not_an_error(api: httpx.Client, running: RunningSandbox) -> None:
    bare = cast(Sandbox, SimpleNamespace(extensions={}))
    assert [k.value for k in signing_keys(bare)] == ["", "", ""]
    running.sandbox.extensions.pop("mailgun.signer")
    page = api.get("/ui/rules")
    assert page.status_code == 200
    assert page.text.count("not available (emulator not installed)") == 1
    assert "MAILGUN_WEBHOOK_SIGNING_KEY" in page.text


def test_webhook_urls_hide_their_password() -> None:
    assert redact_url("https://anymail:s3cret@app.example/hook") == (
        "https://anymail:•••@app.example/hook"
    )
    assert redact_url("http://app.example:8000/x?a=1") == "http://app.example:8000/x?a=1"
    assert redact_url("http://[bad") == "http://[bad"


def test_open_pages_look_again_only_while_a_webhook_is_pending() -> None:
    now = 1000.0
    assert WebhookLog([]).recheck_ms(now) == 0
    assert WebhookLog([], pending=1, next_attempt=now).recheck_ms(now) == 500
    assert WebhookLog([], pending=1, next_attempt=now + 2).recheck_ms(now) == 2300
    assert WebhookLog([], pending=2, next_attempt=now + 600).recheck_ms(now) == 10_000
    assert time_until(now + 0.2, now) == "now"
    assert time_until(now + 5, now) == "in 5 s"
    assert time_until(now + 300, now) == "in 5 min"
