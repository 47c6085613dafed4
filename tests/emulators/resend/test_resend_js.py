"""Resend's Node.js SDK (``resend`` on npm) against a running sandbox through ``baseUrl`` alone:
sends with an attachment and an idempotency key, batches, reading back, rescheduling and
cancelling, domains, API keys, webhooks, and an error object in Resend's shape.

The package is installed with npm once (``tests.tools.node_modules``); a missing
``node``/``npm`` fails the test rather than skipping it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.emulators.resend.conftest import by_resend_id
from tests.emulators.stored import listed, raw_message
from tests.tools import node_modules, node_steps, run_node

SCRIPT = Path(__file__).with_name("resend_js_client.js")


@pytest.fixture(scope="module")
def modules() -> Path:
    return node_modules("resend@6")


def test_resend_node(modules: Path, running: RunningSandbox, api: httpx.Client) -> None:
    steps = node_steps(run_node(SCRIPT, modules, running.url))
    email_id = steps["send"]["data"]["id"]
    assert steps["send"]["error"] is None and steps["replay"] == {"id": email_id}
    assert steps["batch"] == 2 and steps["get"] == "From resend-node"
    assert steps["updated"]["object"] == steps["cancelled"]["object"] == "email"
    assert steps["domains"] == ["example.com"] and steps["keys"] == 1
    assert steps["webhook"] == "whsec_"
    assert steps["invalid"] == {
        "statusCode": 422,
        "name": "validation_error",
        "message": "Invalid `to` field. The email address needs to follow the"
        " `email@example.com` or `Name <email@example.com>` format.",
    }
    assert sorted(m["Subject"] for m in listed(api)) == ["B1", "B2", "From resend-node", "Later"]
    stored = by_resend_id(running, email_id)
    assert stored.inbox == "re_node_key" and stored.tags == ["node"]
    [attachment] = list(raw_message(api, stored.id).iter_attachments())
    assert attachment.get_content() == bytes([0, 1, 2, 255])
