"""The inbox's multi-select in a real browser: checkboxes, shift-click ranges, select all on the
page, bulk read/unread, tag and delete, a selection that survives live refreshes, and the
page size choice the browser remembers."""

from __future__ import annotations

import smtplib

import httpx
import pytest
from playwright.sync_api import Page, expect

from mailsandbox.runner import RunningSandbox
from tests.web.conftest import Sender

pytestmark = pytest.mark.browser


def box(page: Page, subject: str) -> str:
    return f".msg:has(.msg-subject:text-is('{subject}')) .msg-check input"


def stored(running: RunningSandbox) -> dict[str, dict[str, object]]:
    """Subject -> the API's summary of every stored message."""
    listed = httpx.get(f"{running.url}/api/v1/messages", params={"limit": 500}).json()
    return {m["Subject"]: m for m in listed["messages"]}


def test_checkboxes_ranges_and_select_all(page: Page, send: Sender) -> None:
    for n in range(1, 7):
        send(subject=f"m{n}")
    page.goto("/")  # newest first: m6 .. m1
    bar = page.locator("#bulk")
    expect(bar).to_be_hidden()
    page.click(box(page, "m6"))
    expect(bar).to_be_visible()
    expect(page.locator("#selected-count")).to_have_text("1")
    expect(page.locator("#select-all")).to_have_js_property("indeterminate", True)
    page.click(box(page, "m3"), modifiers=["Shift"])  # m6 .. m3
    expect(page.locator("#selected-count")).to_have_text("4")
    checked = page.eval_on_selector_all(
        ".msg:has(.msg-check input:checked) .msg-subject", "els => els.map(e => e.textContent)"
    )
    assert checked == ["m6", "m5", "m4", "m3"]
    page.click(box(page, "m5"), modifiers=["Shift"])  # unchecking a range: m3 .. m5
    expect(page.locator("#selected-count")).to_have_text("1")
    page.check("#select-all")
    expect(page.locator("#selected-count")).to_have_text("6")
    expect(page.locator(".msg-check input:checked")).to_have_count(6)
    page.uncheck("#select-all")
    expect(bar).to_be_hidden()
    expect(page.locator(".msg-check input:checked")).to_have_count(0)
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")  # keyboard: x checks the selected row
    page.keyboard.press("x")
    expect(page.locator(".msg.selected .msg-check input")).to_be_checked()
    expect(page.locator("#selected-count")).to_have_text("1")


def test_bulk_read_unread_tag_delete(page: Page, send: Sender, running: RunningSandbox) -> None:
    for subject in ("keep", "a", "b", "c"):
        send(subject=subject)
    page.goto("/")
    expect(page.locator(".msg.unread")).to_have_count(4)
    for subject in ("a", "b"):
        page.click(box(page, subject))
    page.click("#bulk button:has-text('Mark read')")
    expect(page.locator(".msg.unread")).to_have_count(2)
    expect(page.locator("#bulk")).to_be_hidden()  # a done action clears the selection
    assert [stored(running)[s]["Read"] for s in ("keep", "a", "b", "c")] == [
        False,
        True,
        True,
        False,
    ]

    page.click(box(page, "a"))
    page.click("#bulk button:has-text('Mark unread')")
    expect(page.locator(".msg.unread")).to_have_count(3)

    for subject in ("a", "c"):
        page.click(box(page, subject))
    page.fill("#bulk-tag", "batch, second")
    page.click("#bulk button:has-text('Add tag')")
    expect(page.locator(".tag-nav a")).to_have_count(2)
    assert stored(running)["a"]["Tags"] == ["batch", "second"]
    assert stored(running)["keep"]["Tags"] == []
    page.click(box(page, "c"))
    page.fill("#bulk-tag", "second")
    page.click("#bulk button:has-text('Remove tag')")
    expect(page.locator(".msg:has(.msg-subject:text-is('c')) .msg-tags a")).to_have_text(["batch"])
    assert stored(running)["a"]["Tags"] == ["batch", "second"]

    for subject in ("a", "b", "c"):
        page.click(box(page, subject))
    page.click("#bulk button:has-text('Delete')")
    expect(page.locator(".msg")).to_have_count(1)
    assert list(stored(running)) == ["keep"]


def test_selection_survives_a_live_refresh(page: Page, send: Sender) -> None:
    send(subject="older")
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    page.click(box(page, "older"))
    send(subject="newer")  # the list is swapped when it arrives
    expect(page.locator(".msg").first).to_contain_text("newer")
    expect(page.locator(box(page, "older"))).to_be_checked()
    expect(page.locator(box(page, "newer"))).not_to_be_checked()
    expect(page.locator("#selected-count")).to_have_text("1")


def test_page_size_is_chosen_and_remembered(page: Page, running: RunningSandbox) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        for n in range(60):
            client.sendmail("a@example.com", ["b@example.com"], f"Subject: n{n}\r\n\r\nx\r\n")
    page.goto("/")
    expect(page.locator(".msg")).to_have_count(50)  # the default
    page.select_option("#page-size", "25")
    expect(page.locator(".msg")).to_have_count(25)
    expect(page.locator(".count")).to_contain_text("1\N{EN DASH}25 of 60")
    page.click("a[rel=next]")
    expect(page.locator(".count")).to_contain_text("26\N{EN DASH}50 of 60")
    page.goto("/")  # a new visit from this browser
    expect(page.locator(".msg")).to_have_count(25)
    expect(page.locator("#page-size")).to_have_value("25")
    other = page.context.browser
    assert other is not None
    fresh = other.new_context(base_url=running.url)  # another browser keeps the default
    fresh_page = fresh.new_page()
    fresh_page.goto("/")
    expect(fresh_page.locator(".msg")).to_have_count(50)
    fresh.close()
