"""The message page's check tabs in Chromium: HTML source, HTML check (platform filter), link
check (only on the button), spam score (a real spamd), lint, and the PNG screenshot; at desktop
width, at 390 px and in dark mode."""

from __future__ import annotations

import smtplib
import struct
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from mailsandbox.checks import htmlcheck
from mailsandbox.runner import RunningSandbox
from tests.check_servers import LinkServer, running_spamd
from tests.web.conftest import Beacon, Sender
from tests.web.mail import rich_message

pytestmark = pytest.mark.browser

HTML = (
    '<html lang="en"><head><style>p { font-size: 10px } a:hover { color: red }</style></head>'
    '<body><div style="display:flex;text-align:center"><p id="hello">Hello <b>you</b></p>'
    "{links}</div></body></html>"
)


@pytest.fixture
def site() -> Iterator[LinkServer]:
    server = LinkServer()
    yield server
    server.close()


def check_message(links: str = "") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Shop <orders@shop.example>"
    msg["To"] = "bob@example.com"
    msg["Subject"] = "Checks"
    msg.set_content("Hello you")
    msg.add_alternative(HTML.replace("{links}", links), subtype="html")
    return msg


def open_message(page: Page, subject: str = "Checks") -> None:
    page.goto("/")
    page.click(f".msg:has-text('{subject}') a")
    expect(page.locator("#subject")).to_have_text(subject)
    # The page's deferred scripts (preview.js, checks.js) listen for clicks only once they ran.
    page.wait_for_load_state("load")


def show(page: Page, tab: str) -> None:
    page.click(f"#tab-{tab}")
    expect(page.locator(f"#panel-{tab}")).to_be_visible()


def test_html_source_tab(page: Page, send: Sender) -> None:
    send(check_message())
    open_message(page)
    show(page, "source")
    source = page.locator("#html-source")
    expect(source).to_contain_text('<p id="hello">')
    expect(source.locator(".hl-nt").first).to_have_text("html")
    lines = source.inner_text().splitlines()
    assert lines[:3] == [
        '<html lang="en">',
        "  <head>",
        "    <style>p { font-size: 10px } a:hover { color: red }</style>",
    ]


def test_html_check_tab_filters_by_platform(page: Page, send: Sender) -> None:
    send(check_message())
    open_message(page)
    show(page, "html-check")
    check = page.locator("#html-check")
    expected = htmlcheck.run(HTML.replace("{links}", ""))
    supported = f"{expected['Total']['Supported']:.1f}% supported"
    expect(check.locator(".stats")).to_contain_text(supported)
    expect(check.locator(".finding-title", has_text="display:flex")).to_be_visible()

    outlook = htmlcheck.for_platform(expected, "windows")
    page.select_option("#html-check-platform", "windows")
    expect(page.locator("#html-check .stats")).to_contain_text(
        f"{outlook['Total']['Supported']:.1f}% supported"
    )
    expect(page.locator("#html-check-platform")).to_have_value("windows")
    flex = page.locator("#html-check .finding", has_text="display:flex")
    flex.locator("summary").click()
    names = flex.locator(".clients tbody td:first-child").all_inner_texts()
    assert names and all("Windows" in name for name in names)


def test_link_check_runs_only_when_asked(page: Page, send: Sender, site: LinkServer) -> None:
    links = "".join(f'<a href="{site.url}{p}">{p}</a>' for p in ("/ok", "/missing", "/broken"))
    send(check_message(links))
    open_message(page)
    show(page, "link-check")
    expect(page.locator("#run-link-check")).to_have_text("Check links")
    assert site.requests == []  # opening the tab sends nothing
    page.click("#run-link-check")
    rows = page.locator(".link-results tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("200 OK")
    expect(rows.nth(1)).to_contain_text("404 Not Found")
    expect(rows.nth(2)).to_contain_text("500 Internal Server Error")
    expect(page.locator("#link-check .check-summary")).to_contain_text("3 links checked, 2 errors")
    assert sorted(site.requests) == [("HEAD", "/broken"), ("HEAD", "/missing"), ("HEAD", "/ok")]
    expect(page.locator("#run-link-check")).to_have_text("Check again")


def test_lint_tab(page: Page, send: Sender) -> None:
    send(check_message('<a href="https://shop.example/deal">click here</a>'))
    open_message(page)
    show(page, "lint")
    lint = page.locator("#lint-check")
    expect(lint.locator("[data-finding=date-missing] .badge")).to_have_text("error")
    expect(lint.locator("[data-finding=tiny-font]")).to_contain_text("font-size: 10px")
    expect(lint.locator("[data-finding=vague-link-text]")).to_contain_text("click here")
    expect(lint.locator(".stats")).to_contain_text("1 error")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshot_downloads_a_png(page: Page, send: Sender, beacon: Beacon) -> None:
    msg = rich_message("Screenshot me")
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    html_part.set_content(
        html_part.get_content().replace("</body>", f'<img src="{beacon.url}/remote.png"></body>'),
        subtype="html",
    )
    send(msg)
    open_message(page, "Screenshot me")
    page.click("button[data-width=phone]")
    expect(page.locator("#preview")).to_have_js_property("offsetWidth", 375)
    with page.expect_download() as download:
        page.click("#screenshot")
    path = Path(download.value.path())
    data = path.read_bytes()
    width, height = png_size(data)
    assert width == 375 and height > 60
    assert len(data) > 2000
    assert download.value.suggested_filename.endswith(".png")
    expect(page.locator("#screenshot-status")).to_have_text("Saved 375 px wide.")
    assert beacon.hits == []  # remote content stays blocked: the user did not load it


@pytest.fixture(scope="module")
def spamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_spamd(tmp_path_factory.mktemp("spamd")) as address:
        yield address


def test_spam_tab_with_spamd(
    browser: Browser, spamd: str, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    running = sandbox_factory(spamassassin=spamd)
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.send_message(check_message())
    context = browser.new_context(base_url=running.url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        open_message(page)
        show(page, "spam")
        rules = page.locator("#spam-check .spam-rules")
        expect(rules).to_contain_text("MISSING_DATE")
        expect(page.locator("#spam-check .badge")).to_have_text("Not spam")
    finally:
        context.close()


def test_spam_tab_absent_without_spamd(page: Page, send: Sender) -> None:
    send(check_message())
    open_message(page)
    expect(page.locator("#tab-lint")).to_be_visible()
    expect(page.locator("#tab-spam")).to_have_count(0)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_check_tab_at_phone_width(
    browser: Browser, running: RunningSandbox, send: Sender, scheme: str
) -> None:
    send(check_message())
    context = browser.new_context(
        base_url=running.url, viewport={"width": 390, "height": 844}, color_scheme=scheme
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        open_message(page)
        ready = {
            "source": "#html-source",
            "html-check": "#html-check .findings",
            "link-check": "#run-link-check",
            "lint": "#lint-check .findings",
        }
        for tab, selector in ready.items():
            page.locator(f"#tab-{tab}").scroll_into_view_if_needed()
            show(page, tab)
            expect(page.locator(selector)).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= 390, f"{tab} overflows: {overflow}px"
        error = page.locator("#lint-check .severity-error").first
        color = error.evaluate("e => getComputedStyle(e).color")
        assert color == ("rgb(255, 123, 107)" if scheme == "dark" else "rgb(200, 50, 31)")
    finally:
        context.close()
