"""``/view/{ID}.html`` in Chromium: the verbatim message loads nothing remote and ignores
``<base href>`` until ``remote=1`` is asked for; its own ``cid:`` images still show."""

from __future__ import annotations

import base64

import httpx
import pytest
from playwright.sync_api import Page

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import PNG, send
from tests.web.conftest import Beacon

pytestmark = pytest.mark.browser


def tracked_message(api: httpx.Client, beacon: Beacon) -> str:
    html = (
        f'<html><head><base href="{beacon.url}/base/">'
        f'<link rel="stylesheet" href="{beacon.url}/style.css"></head><body>'
        f'<img id="remote" src="{beacon.url}/open.gif">'
        '<img id="relative" src="relative.gif">'
        '<img id="inline" src="cid:logo">'
        f'<div style="background:url({beacon.url}/bg.gif)">x</div></body></html>'
    )
    logo = {"Content": base64.b64encode(PNG).decode(), "Filename": "logo.png", "ContentID": "logo"}
    return send(api, "tracked", HTML=html, Attachments=[logo])


def image_loaded(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


@pytest.mark.parametrize("query", ["", "?embed=1"])
def test_remote_content_and_base_are_blocked(
    page: Page, running: RunningSandbox, beacon: Beacon, query: str
) -> None:
    with httpx.Client(base_url=running.url, timeout=30) as api:
        message_id = tracked_message(api, beacon)
    page.goto(f"/view/{message_id}.html{query}")  # waits for "load": every image settled
    assert image_loaded(page, "#inline")  # the message's own part, from this server
    assert not image_loaded(page, "#remote")
    assert beacon.hits == []  # no pixel, stylesheet, background, nor <base>-relative load


def test_remote_content_loads_when_asked(
    page: Page, running: RunningSandbox, beacon: Beacon
) -> None:
    with httpx.Client(base_url=running.url, timeout=30) as api:
        message_id = tracked_message(api, beacon)
    page.goto(f"/view/{message_id}.html?remote=1")
    assert image_loaded(page, "#remote") and image_loaded(page, "#inline")
    assert "/open.gif" in beacon.hits and "/style.css" in beacon.hits
    assert not any(hit.startswith("/base/") for hit in beacon.hits)  # base-uri stays 'none'
