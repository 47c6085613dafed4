"""The official Node client, mailgun.js, against a running sandbox: send with files, walk the
events pages (token = last path segment), manage webhooks and suppressions.

mailgun.js is installed with npm once (``tests.tools.node_modules``); a missing ``node``/``npm``
fails the test rather than skipping it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from mailgun.client import Client

from mailsandbox.runner import RunningSandbox
from tests.emulators.mailgun.conftest import raw_message, stored, wait_for_events
from tests.tools import node_modules, node_steps, run_node

SCRIPT = Path(__file__).with_name("mailgun_js_client.js")


@pytest.fixture(scope="module")
def modules() -> Path:
    return node_modules("mailgun.js@14", "form-data@4")


def test_mailgun_js_end_to_end(
    modules: Path, running: RunningSandbox, api: httpx.Client, mg: Client
) -> None:
    url = running.url.replace("127.0.0.1", "localhost")
    steps: dict[str, Any] = {}
    for phase in ("send", "inspect"):
        steps.update(node_steps(run_node(SCRIPT, modules, url, phase)))
        if phase == "send":  # the engine delivers in the background: wait for both recipients
            wait_for_events(mg, 4)

    assert steps["send"]["status"] == 200 and steps["send"]["message"] == "Queued. Thank you."
    assert sorted(steps["events"]) == [
        "accepted:a@example.com",
        "accepted:b@example.com",
        "delivered:a@example.com",
        "delivered:b@example.com",
    ]
    assert steps["list"] == {"delivered": {"urls": ["https://hooks.example.com/e"]}}
    assert steps["destroyed"]["url"] == "https://hooks.example.com/e"
    assert steps["bounces"] == ["x@example.com"]

    [summary] = stored(api)
    msg = raw_message(api, summary["ID"])
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content() == bytes([0, 1, 2, 255, 13, 10])
    logo = next(p for p in msg.walk() if p["Content-ID"] == "<logo.png>")
    assert logo.get_content() == bytes([137, 80, 78, 71, 0, 255])
