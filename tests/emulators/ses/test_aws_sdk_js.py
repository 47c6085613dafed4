"""The AWS SDK for JavaScript v3 (``@aws-sdk/client-sesv2``, ``client-ses``, ``client-sns``)
against a running sandbox through ``endpoint`` alone: a v2 send with an attachment, templates,
errors mapped to the SDK's exception names, a v1 raw send and SNS topics.

The packages are installed with npm once (``tests.tools.node_modules``); a missing
``node``/``npm`` fails the test rather than skipping it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.emulators.ses.conftest import by_ses_id
from tests.emulators.stored import raw_message
from tests.tools import node_modules, node_steps, run_node

SCRIPT = Path(__file__).with_name("aws_sdk_js_client.js")


@pytest.fixture(scope="module")
def modules() -> Path:
    return node_modules("@aws-sdk/client-sesv2", "@aws-sdk/client-ses", "@aws-sdk/client-sns")


def test_aws_sdk_js_v3(modules: Path, running: RunningSandbox, api: httpx.Client) -> None:
    steps = node_steps(run_node(SCRIPT, modules, running.url))
    assert steps["template"] == "S {{x}}"
    assert steps["missing"]["name"] == "NotFoundException" and steps["missing"]["status"] == 404
    assert steps["rejected"] == {"name": "MessageRejected", "status": 400}
    assert steps["topic"] == "arn:aws:sns:us-west-2:123456789012:js-topic"
    assert steps["topics"] == [steps["topic"]]
    sent = by_ses_id(running, api, steps["send"])
    assert sent.metadata["ses"]["tags"] == {"sdk": "js"} and sent.inbox == "AKIAJSCLIENT"
    message = raw_message(api, sent.id)
    assert message["Subject"] == "From the JS SDK"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == bytes([0, 1, 2, 255])
    raw = by_ses_id(running, api, steps["raw"])
    assert raw.subject == "raw from node" and raw.recipients == ["bob@example.com"]
