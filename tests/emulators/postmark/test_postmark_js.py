"""Postmark's Node.js client (``postmark`` on npm) against a running sandbox through
``requestHost`` alone: sends (single, batch, template), webhooks, message streams,
suppressions, outbound messages, bounces, and errors mapped to its error classes.

The package is installed with npm once (``tests.tools.node_modules``); a missing
``node``/``npm`` fails the test rather than skipping it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.emulators.postmark.conftest import by_postmark_id
from tests.emulators.stored import raw_message
from tests.tools import node_modules, node_steps, run_node

SCRIPT = Path(__file__).with_name("postmark_js_client.js")


@pytest.fixture(scope="module")
def modules() -> Path:
    return node_modules("postmark@4")


def test_postmark_js(modules: Path, sandbox_factory: Callable[..., RunningSandbox]) -> None:
    running = sandbox_factory(postmark_server_token=["node-token"])
    steps = node_steps(run_node(SCRIPT, modules, running.url.removeprefix("http://")))
    assert steps["send"]["ErrorCode"] == 0 and steps["send"]["To"] == "ann@example.com"
    assert steps["batch"] == [0, 0] and steps["templated"] == 0
    assert steps["webhook"]["Triggers"]["Bounce"] == {"Enabled": True, "IncludeContent": True}
    assert steps["webhooks"] == [steps["webhook"]["ID"]]
    assert steps["streams"] == ["outbound", "broadcast", "inbound"]
    assert (steps["suppressed"], steps["deleted"]) == ("Suppressed", "Deleted")
    assert steps["dump"] == ["blocked@example.com"]
    assert steps["inactive"] == {
        "name": "InactiveRecipientsError", "code": 406, "recipients": ["blocked@example.com"]
    }  # fmt: skip
    assert steps["outbound"] == [steps["send"]["MessageID"]]
    assert steps["details"] == "From postmark.js" and steps["bounces"] == 0
    assert steps["invalid"] == {"name": "InvalidEmailRequestError", "code": 300, "status": 422}
    assert steps["token"] == {"name": "InvalidAPIKeyError", "code": 10, "status": 401}
    stored = by_postmark_id(running, steps["send"]["MessageID"])
    assert stored.inbox == "node-token" and stored.metadata["postmark"]["metadata"] == {
        "client": "node"
    }
    with httpx.Client(base_url=running.url) as api:
        [attachment] = list(raw_message(api, stored.id).iter_attachments())
    assert attachment.get_content() == bytes([0, 1, 2, 255])
