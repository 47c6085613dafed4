"""DNS rebinding in a real browser: the attacker's page, first served from its own server,
has its name (``attacker.example``) resolved to 127.0.0.1 afterwards, so it is same-origin with
the sandbox and every same-origin check passes. Only the Host allowlist stands between it and
the mail. Chromium here resolves attacker.example to 127.0.0.1 (``--host-resolver-rules``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from mailsandbox.runner import RunningSandbox
from tests.state import changed_tables, settled_message, snapshot
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

Factory = Callable[..., RunningSandbox]


@pytest.fixture(scope="module")
def rebinding_browser() -> Iterator[Browser]:
    """Chromium resolving attacker.example to 127.0.0.1, as after a DNS rebinding."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium"
    with sync_playwright() as p:
        args = [
            *CHROMIUM_ARGS,
            "--host-resolver-rules=MAP attacker.example 127.0.0.1",
            # Chromium's own Local Network Access checks would stop this page before it reaches
            # the sandbox; Firefox and Safari have none, so the sandbox must hold without them.
            "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
            "PrivateNetworkAccessSendPreflights",
        ]
        instance = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield instance
        instance.close()


@pytest.mark.parametrize("allowed", [False, True], ids=["refused", "control-allow-host"])
def test_dns_rebinding_cannot_read_or_delete_mail(
    rebinding_browser: Browser, sandbox_factory: Factory, allowed: bool
) -> None:
    running = sandbox_factory(allow_host=["attacker.example"] if allowed else [])
    settled_message(running)
    before = snapshot(running)
    rebound = f"http://attacker.example:{running.http_port}"
    context = rebinding_browser.new_context()
    try:
        page = context.new_page()
        # The attacker's page as first served by the attacker's server, before the rebinding:
        # from then on, its requests to its own origin reach 127.0.0.1.
        script = (
            "window.result = Promise.all(["
            "fetch('/api/v1/messages').then(r => r.status),"
            "fetch('/ui/messages/delete-all', {method: 'POST', headers: {'HX-Request': 'true'}})"
            ".then(r => r.status),"
            "fetch('/api/v1/messages', {method: 'DELETE'}).then(r => r.status)]);"
        )
        page.route(
            rebound + "/",
            lambda route: route.fulfill(
                content_type="text/html", body=f"<title>cats</title><script>{script}</script>"
            ),
        )
        page.goto(rebound + "/")
        statuses = page.evaluate("window.result")
        direct = page.goto(rebound + "/api/v1/messages")
        assert direct is not None
        direct_status, direct_text = direct.status, page.content()
    finally:
        context.close()
    if allowed:  # the control: the same page, once the name is allowed, deletes the mail
        assert all(200 <= status < 300 for status in statuses) and direct_status == 200
        assert "messages" in changed_tables(before, snapshot(running))
        return
    assert statuses == [403, 403, 403] and direct_status == 403
    assert "--allow-host attacker.example" in direct_text
    assert changed_tables(before, snapshot(running)) == []
