"""The official Node client, mailgun.js, against a running sandbox: send with files, walk the
events pages (token = last path segment), manage webhooks and suppressions.

mailgun.js is installed with npm once into ``~/.cache/mailsandbox/mailgun-js-14`` (the test is
a missing ``node``/``npm`` fails the test rather than skipping it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.emulators.mailgun.conftest import raw_message, stored

SCRIPT = Path(__file__).with_name("mailgun_js_client.js")
CACHE = Path.home() / ".cache" / "mailsandbox" / "mailgun-js-14"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail(
            "node and npm are required for the mailgun.js test (apt-get install nodejs npm)"
        )
    if not (CACHE / "node_modules" / "mailgun.js").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
             "mailgun.js@14", "form-data@4"],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return CACHE / "node_modules"


def test_mailgun_js_end_to_end(
    node_modules: Path, running: RunningSandbox, api: httpx.Client
) -> None:
    url = running.url.replace("127.0.0.1", "localhost")
    done = subprocess.run(
        ["node", str(SCRIPT), url],
        capture_output=True,
        text=True,
        timeout=120,
        env={"NODE_PATH": str(node_modules), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert done.returncode == 0, done.stderr
    steps: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        steps[record["step"]] = record["value"]

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
