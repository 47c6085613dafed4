"""``/view/{ID}.html`` keeps the message verbatim and makes it inert with headers only; text,
raw sources and parts are never sniffed or run (issue 14, views)."""

from __future__ import annotations

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import send

HOSTILE = (
    '<html><head><base href="https://evil.example/"></head><body>'
    '<img src="https://tracker.example/open.gif"><link rel="stylesheet" href="//cdn.example/x.css">'
    '<p style="background:url(https://tracker.example/bg.png)">Hi</p>'
    '<script>alert(1)</script><a href="relative">relative link</a></body></html>'
)


def directives(policy: str) -> dict[str, str]:
    parts = (d.strip().partition(" ") for d in policy.split(";") if d.strip())
    return {name: value for name, _, value in parts}


def test_view_html_is_verbatim_and_blocks_remote_content_and_base(
    running: RunningSandbox, api: httpx.Client
) -> None:
    message_id = send(api, HTML=HOSTILE)
    for path in (f"/view/{message_id}.html", f"/view/{message_id}.html?embed=1"):
        view = api.get(path)
        assert view.status_code == 200
        if "embed" not in path:
            assert view.text.rstrip("\r\n") == HOSTILE  # not rewritten: Mailpit clients compare
        policy = directives(view.headers["content-security-policy"])
        assert policy["base-uri"] == "'none'"  # <base href> is not honoured
        assert policy["script-src"] == "'none'" and policy["default-src"] == "'none'"
        for kind in ("img-src", "style-src", "font-src", "media-src"):
            assert "*" not in policy[kind].split(), (kind, policy[kind])
            assert running.url in policy[kind]  # the message's own cid: parts still load
        assert "allow-same-origin" not in policy["sandbox"]
        assert view.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("flag", ["1", "true"])
def test_remote_content_is_loaded_only_when_asked(api: httpx.Client, flag: str) -> None:
    message_id = send(api, HTML=HOSTILE)
    view = api.get(f"/view/{message_id}.html", params={"remote": flag})
    policy = directives(view.headers["content-security-policy"])
    assert "*" in policy["img-src"].split() and "*" in policy["style-src"].split()
    assert policy["script-src"] == "'none'" and policy["base-uri"] == "'none'"


def test_text_raw_and_parts_are_never_sniffed_or_run(api: httpx.Client) -> None:
    message_id = send(api, HTML=HOSTILE, Text="<script>alert(1)</script>")
    for path in (
        f"/view/{message_id}.txt",
        f"/api/v1/message/{message_id}/raw",
        f"/api/v1/message/{message_id}/raw?dl=1",
        f"/ui/message/{message_id}/raw",
        f"/ui/message/{message_id}/raw?dl=1",
    ):
        answer = api.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        policy = directives(answer.headers["content-security-policy"])
        assert policy["default-src"] == "'none'" and "sandbox" in policy, path


def test_every_response_has_nosniff_and_a_policy(api: httpx.Client) -> None:
    message_id = send(api)
    for path in ("/api/v1/messages", f"/api/v1/message/{message_id}", "/v3/templates", "/nope"):
        answer = api.get(path)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert "content-security-policy" in answer.headers, path
        assert answer.headers["referrer-policy"] == "no-referrer", path
