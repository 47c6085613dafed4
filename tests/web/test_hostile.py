"""Hostile mail in a real browser: nothing runs, nothing phones home, the page stays intact."""

from __future__ import annotations

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.web.conftest import Beacon, Sender
from tests.web.mail import hostile_messages

pytestmark = pytest.mark.browser


def record_dialogs(page: Page) -> list[Dialog]:
    dialogs: list[Dialog] = []

    def handle(dialog: Dialog) -> None:
        dialogs.append(dialog)
        dialog.dismiss()

    page.on("dialog", handle)
    return dialogs


def assert_nothing_ran(
    page: Page, dialogs: list[Dialog], beacon: Beacon, settle: int = 100
) -> None:
    # The behaviour under test is "nothing fires": a hostile page's refresh, beacon or
    # timer has no event to wait for, only a window it must stay quiet through.
    page.wait_for_timeout(settle)
    assert dialogs == []
    assert beacon.hits == []
    for frame in page.frames:
        assert frame.evaluate("typeof window.__pwned") == "undefined"


def test_hostile_messages_are_inert(page: Page, send: Sender, beacon: Beacon) -> None:
    dialogs = record_dialogs(page)
    hostile = hostile_messages(beacon.url)
    for msg in hostile:
        send(msg)

    page.goto("/")
    expect(page.locator(".msg")).to_have_count(len(hostile))
    first = page.locator(".msg-subject").first
    expect(first).to_have_text("<script>alert('subject')</script><b>iframe and object</b>")
    expect(page.locator(".msg-sender").first).to_contain_text("<img src=x onerror=alert(7)>")
    assert page.locator("#list img, #list script, #list b").count() == 0
    assert_nothing_ran(page, dialogs, beacon)

    ids = page.eval_on_selector_all(".msg", "rows => rows.map(r => r.dataset.id)")
    for message_id in ids:
        page.goto(f"/view/{message_id}")
        expect(page.frame_locator("#preview").locator("body")).to_be_attached()
        expect(page.locator(".topbar")).to_be_visible()
        expect(page.locator("#subject")).to_contain_text("<script>alert('subject')</script>")
        assert page.locator("#subject b, .message-head img").count() == 0
        assert page.url.endswith(f"/view/{message_id}")  # no redirect away
        assert_nothing_ran(page, dialogs, beacon)

        # Open the preview document on its own as well (CSP sandbox, no scripts).
        page.goto(f"/ui/message/{message_id}/preview")
        assert_nothing_ran(page, dialogs, beacon)
    assert_nothing_ran(page, dialogs, beacon, settle=1000)


def test_clicking_hostile_links_and_forms_does_nothing(
    page: Page, send: Sender, beacon: Beacon
) -> None:
    dialogs = record_dialogs(page)
    by_name = {m["Subject"]: m for m in hostile_messages(beacon.url)}
    send(by_name["<script>alert('subject')</script><b>javascript url</b>"])
    send(by_name["<script>alert('subject')</script><b>form</b>"])
    page.goto("/view/latest")  # the form message
    frame = page.frame_locator("#preview")
    frame.locator("#go").click()
    assert_nothing_ran(page, dialogs, beacon, settle=500)
    page.goto("/")
    page.click(".msg:has-text('javascript url') a")
    page.frame_locator("#preview").locator("#js").click()
    assert_nothing_ran(page, dialogs, beacon, settle=500)
    assert len(page.context.pages) == 1
