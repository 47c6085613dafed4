"""Per-browser choices in a real browser: the theme switch (system / light / dark, remembered,
applied before the first paint), opt-in notifications for new mail, and relative times that
read the same wherever they are formatted."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from mailsandbox.runner import RunningSandbox
from mailsandbox.web.render import relative_time
from tests.waiting import eventually
from tests.web.conftest import Sender

pytestmark = pytest.mark.browser

# Records, at the moment <body> is parsed, which theme the page already wears.
THEME_AT_BODY = """
window.__themeAtBody = "not seen";
new MutationObserver(function (records, observer) {
  if (!document.body) return;
  window.__themeAtBody = document.documentElement.getAttribute("data-theme");
  observer.disconnect();
}).observe(document, { childList: true, subtree: true });
"""

# Counts permission requests and the notifications shown (the real API still does the work).
NOTIFICATIONS = """
window.__asked = 0;
window.__shown = [];
const Real = window.Notification;
const ask = Real.requestPermission.bind(Real);
class Recorded extends Real {
  constructor(title, options) { super(title, options); window.__shown.push([title, options.body]); }
}
Recorded.requestPermission = function () { window.__asked += 1; return ask(); };
Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
window.Notification = Recorded;
"""


@pytest.fixture
def dark_os(browser: Browser, running: RunningSandbox) -> Iterator[BrowserContext]:
    """A browser whose operating system is set to dark."""
    context = browser.new_context(base_url=running.url, color_scheme="dark")
    context.add_init_script(THEME_AT_BODY)
    yield context
    context.close()


def background(page: Page) -> str:
    colour: str = page.evaluate("getComputedStyle(document.body).backgroundColor")
    return colour


LIGHT_BG, DARK_BG = "rgb(245, 246, 248)", "rgb(13, 16, 23)"


def test_theme_switch_is_remembered_and_applied_before_paint(
    dark_os: BrowserContext, send: Sender
) -> None:
    send(subject="themes")
    page = dark_os.new_page()
    page.goto("/")
    assert background(page) == DARK_BG  # system: follows the OS
    assert page.evaluate("window.__themeAtBody") is None
    theme = page.locator("#theme")
    expect(theme).to_have_attribute("title", "Theme: follow the system")
    theme.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert background(page) == LIGHT_BG
    assert page.locator(".badge.src-smtp").evaluate("e => getComputedStyle(e).color") == (
        "rgb(14, 116, 144)"  # the light badge colour, though the OS is dark
    )

    page.goto("/view/latest")  # remembered, and on before <body> exists: no flash
    assert page.evaluate("window.__themeAtBody") == "light"
    assert background(page) == LIGHT_BG
    page.locator("#theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.reload()
    assert page.evaluate("window.__themeAtBody") == "dark"
    assert background(page) == DARK_BG
    page.locator("#theme").click()  # back to the system's choice
    expect(page.locator("html")).not_to_have_attribute("data-theme", "dark")
    page.reload()
    assert page.evaluate("window.__themeAtBody") is None
    assert page.evaluate("localStorage.getItem('mailsandbox.theme')") is None


def test_notification_permission_is_asked_only_on_a_click(
    browser: Browser, running: RunningSandbox
) -> None:
    context = browser.new_context(base_url=running.url)
    context.add_init_script(NOTIFICATIONS)
    page = context.new_page()
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    assert page.evaluate("window.__asked") == 0  # never on load
    page.click("#notify")
    eventually(lambda: page.evaluate("window.__asked") == 1)
    expect(page.locator("#notify")).to_have_attribute("aria-pressed", "false")  # not granted
    context.close()


def test_notifications_for_new_mail_once_switched_on(
    browser: Browser, running: RunningSandbox, send: Sender
) -> None:
    context = browser.new_context(base_url=running.url)
    context.grant_permissions(["notifications"])
    context.add_init_script(NOTIFICATIONS)
    page = context.new_page()
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    send(subject="before opting in")
    expect(page.locator(".msg")).to_have_count(1)
    assert page.evaluate("window.__shown") == []  # off until asked for

    page.click("#notify")
    expect(page.locator("#notify")).to_have_attribute("aria-pressed", "true")
    send(subject="Your code is 123456", sender="Shop <shop@example.com>")
    eventually(lambda: page.evaluate("window.__shown") == [["Shop", "Your code is 123456"]])

    page.goto("/ui/rules")  # remembered, and on every page
    expect(page.locator("#notify")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    send(subject="on another page")
    eventually(lambda: page.evaluate("window.__shown") == [["Ann", "on another page"]])
    page.click("#notify")  # off again
    expect(page.locator("#notify")).to_have_attribute("aria-pressed", "false")
    send(subject="after opting out")
    page.goto("/")
    expect(page.locator(".msg")).to_have_count(4)
    assert page.evaluate("window.__shown") == []
    context.close()


def test_relative_times_match_between_server_and_browser(page: Page, send: Sender) -> None:
    send(subject="timed")
    page.goto("/")
    now = time.time()
    seconds = [0, 30, 59, 59.9, 60, 61, 119, 3599, 3600, 7199, 86399, 86400, 604799]
    browser_labels = page.evaluate(
        "([now, deltas]) => deltas.map(d => window.mailsandbox.relativeTime((now - d) * 1000,"
        " now * 1000))",
        [now, seconds],
    )
    assert browser_labels == [relative_time(now - d, now) for d in seconds]
    assert browser_labels[3:6] == ["just now", "1 min ago", "1 min ago"]  # never "0 min ago"
    expect(page.locator(".msg time")).to_have_text("just now")
    page.goto("/view/latest")
    expect(page.locator(".message-head time")).to_have_text("just now")


def test_relative_times_move_on_in_an_open_page(page: Page, send: Sender) -> None:
    send(subject="ageing")
    page.clock.install()
    page.goto("/")
    expect(page.locator(".msg time")).to_have_text("just now")
    page.clock.fast_forward("02:30")
    expect(page.locator(".msg time")).to_have_text("2 min ago")
