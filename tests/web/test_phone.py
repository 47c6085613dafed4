"""Phone width (390 px) in a real browser: a compact sticky header with a menu, a tab bar that
scrolls instead of hiding tabs, and a rules page that fits (cards instead of squeezed columns,
URLs that wrap between their parts)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from mailsandbox.runner import RunningSandbox
from tests.waiting import eventually
from tests.web.conftest import Beacon, Sender
from tests.web.mail import rich_message

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# The text of each rendered line of an element (lines found by the characters' positions).
LINES = """el => {
  const lines = [];
  let top = null;
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      if (top === null || Math.abs(rect.top - top) > 2) { lines.push(""); top = rect.top; }
      lines[lines.length - 1] += node.data[i];
    }
  }
  return lines;
}"""


def no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], f"{page.url}: horizontal scroll {widths}"


def test_header_is_compact_with_a_menu(page: Page, send: Sender) -> None:
    send(subject="phone")
    page.set_viewport_size(PHONE)
    for path in ("/", "/view/latest", "/ui/rules"):
        page.goto(path)
        header = page.locator(".topbar").bounding_box()
        assert header is not None and header["height"] <= 56, (path, header)
        no_sideways_scroll(page)
    nav = page.locator("#menu")
    expect(nav).to_be_hidden()
    page.click("#menu-toggle")
    expect(page.locator("#menu-toggle")).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Inbox", exact=True)).to_be_visible()
    expect(nav.get_by_text("Theme: system")).to_be_visible()
    page.mouse.click(200, 600)  # a click elsewhere closes it
    expect(nav).to_be_hidden()
    page.mouse.wheel(0, 800)  # still there (sticky) while scrolling
    box = page.locator(".topbar").bounding_box()
    assert box is not None and box["y"] == 0


def test_tab_bar_scrolls_instead_of_hiding_tabs(page: Page, send: Sender) -> None:
    send(rich_message())
    page.set_viewport_size(PHONE)
    page.goto("/view/latest")
    bar = page.locator(".tabs")
    sizes = bar.evaluate("e => [e.scrollWidth, e.clientWidth, getComputedStyle(e).overflowX]")
    assert sizes[0] > sizes[1] and sizes[2] == "auto", sizes
    tabs = page.locator(".tabs [role=tab]")
    assert tabs.count() >= 9
    for index in range(tabs.count()):
        expect(tabs.nth(index)).to_be_visible()  # none hidden, only scrolled away
    page.locator("#tab-lint").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#panel-lint")).to_be_visible()
    eventually(lambda: bar.evaluate("e => e.scrollLeft") > 0)
    box = page.locator("#tab-lint").bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    page.locator("#tab-html").click()  # and back: the first tab scrolls into view
    eventually(lambda: bar.evaluate("e => e.scrollLeft") == 0)
    no_sideways_scroll(page)


def test_rules_page_fits_a_phone(
    browser: Browser,
    sandbox_factory: Callable[..., RunningSandbox],
    beacon: Beacon,
) -> None:
    long_url = f"{beacon.url}/hooks/mailsandbox/events/incoming?token=abcdef0123456789abcdef&v=2"
    running = sandbox_factory(webhook_url=[long_url])
    with httpx.Client(base_url=running.url) as api:
        api.post("/api/v1/rules", json={"recipient": "*@flaky.example", "outcome": "deferred"})
        api.post("/api/v1/rules", json={"stage": "RCPT", "reply": "550 5.1.1 No such user"})
        api.post(
            "/v3/user/webhooks/event/settings",
            headers={"Authorization": "Bearer SG.x"},
            json={"enabled": True, "url": long_url, "delivered": True},
        )
        sent = api.post(
            "/v3/mail/send",
            headers={"Authorization": "Bearer SG.x"},
            json={
                "personalizations": [{"to": [{"email": "bob@example.com"}]}],
                "from": {"email": "app@example.com"},
                "subject": "hi",
                "content": [{"type": "text/plain", "value": "hi"}],
            },
        )
        assert sent.status_code == 202
        eventually(lambda: len(api.get("/api/v1/webhooks/deliveries").json()["deliveries"]) >= 2)
    context = browser.new_context(base_url=running.url, viewport=PHONE)
    page = context.new_page()
    page.goto("/ui/rules")
    expect(page.locator("#webhook-attempts tbody tr")).not_to_have_count(0)
    no_sideways_scroll(page)
    # Every cell is a readable width (no column squeezed to a letter a line).
    narrow = page.eval_on_selector_all(
        ".table th, .table td",
        "cells => cells.filter(c => c.offsetParent && c.textContent.trim().length > 3"
        " && c.offsetWidth < 48 && !c.closest('thead[style], .stack thead'))"
        ".map(c => c.textContent.trim())",
    )
    assert narrow == []
    # A long URL wraps between its parts: every line but the last ends at / ? & = . or #.
    wrapped = [url.evaluate(LINES) for url in page.locator(".table code.url").all()]
    assert len(wrapped) >= 3 and all(len(lines) > 1 for lines in wrapped)  # they do wrap
    for lines in wrapped:
        assert all(line[-1] in "/?&=.#" for line in lines[:-1]), lines
    badge = page.locator("#endpoints .badge", has_text="SendGrid").first
    assert len(badge.evaluate(LINES)) == 1  # the SendGrid badge stays on one line
    context.close()
