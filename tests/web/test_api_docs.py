"""The API explorer renders in Chromium with every request kept on the sandbox (offline)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route

from mailsandbox.runner import RunningSandbox

pytestmark = pytest.mark.browser


def test_the_explorer_renders_offline(page: Page, running: RunningSandbox) -> None:
    local = urlsplit(running.url).netloc
    elsewhere: list[str] = []
    requested: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == local or url.startswith("data:"):
            requested.append(url)
            route.continue_()
        else:  # as if there were no network: nothing may leave localhost
            elsewhere.append(url)
            route.abort()

    page.context.route("**/*", guard)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/api/docs")
    send = page.locator('[data-path="/v3/mail/send"]').first
    send.wait_for()
    assert page.locator('[data-path="/v3/{domain}/messages"]').count() >= 1
    assert page.locator(".opblock").count() > 50
    send.click()  # expand an operation: the UI is alive, not just painted
    page.get_by_role("button", name="Try it out").first.wait_for()
    assert elsewhere == [] and errors == []
    assert any(url.endswith("/api/v1/openapi.json") for url in requested)
