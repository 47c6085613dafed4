"""The Suppressions page and the message page's "why dropped" notice, in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from mailsandbox.runner import RunningSandbox
from tests.waiting import eventually
from tests.web.conftest import Sender
from tests.web.test_suppressions_http import dropped_message, seed_sendgrid, sendgrid_list

pytestmark = pytest.mark.browser


@pytest.fixture
def client(running: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running.url, timeout=10) as http:
        yield http


def test_search_remove_and_clear_a_list(page: Page, client: httpx.Client) -> None:
    seed_sendgrid(client, "bounces", "ann+bounce@example.com", "bob@example.com", "cy@example.com")
    page.goto("/")
    page.get_by_role("link", name="Suppressions").click()
    expect(page).to_have_title("Suppressions · mailsandbox")
    rows = page.locator("#suppressions tbody tr")
    expect(rows).to_have_count(3)
    expect(page.get_by_role("link", name="Bounces 3")).to_have_attribute("aria-current", "page")

    # Search as you type: the list narrows, the URL follows.
    page.fill("#suppression-q", "bob")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("bob@example.com")
    expect(page).to_have_url(re.compile(r"[?&]q=bob"))

    page.get_by_role("button", name="Remove bob@example.com").click()
    expect(page.locator(".count")).to_contain_text("0 matching")
    assert sendgrid_list(client, "bounces") == ["ann+bounce@example.com", "cy@example.com"]

    # Clearing asks first: dismissed, nothing changes; accepted, the list is empty.
    page.goto("/ui/suppressions")
    expect(rows).to_have_count(2)
    messages: list[str] = []

    def answer(accept: bool) -> None:
        def handle(dialog: Dialog) -> None:
            messages.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", handle)

    answer(False)
    page.get_by_role("button", name="Clear list").click()
    eventually(lambda: messages)
    assert messages == ["Remove all 2 addresses from the SendGrid bounce list?"]
    expect(rows).to_have_count(2)
    assert len(sendgrid_list(client, "bounces")) == 2

    answer(True)
    page.get_by_role("button", name="Clear list").click()
    expect(page.locator("#suppression-list")).to_contain_text("This list is empty.")
    assert sendgrid_list(client, "bounces") == []


def test_mailgun_lists_by_domain(page: Page, client: httpx.Client) -> None:
    for domain, address in (("a.example.com", "ann@example.com"), ("b.example.com", "bo@x.io")):
        added = client.post(f"/v3/{domain}/whitelists", data={"address": address})
        assert added.status_code == 200, added.text
    page.goto("/ui/suppressions")
    page.get_by_role("link", name="Mailgun").click()
    page.get_by_role("link", name="Whitelists 1").click()
    rows = page.locator("#suppressions tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ann@example.com")
    page.select_option("#domain", "b.example.com")
    page.get_by_role("button", name="Show").click()
    expect(rows.first).to_contain_text("bo@x.io")
    expect(page.locator(".count")).to_contain_text("whitelist list of b.example.com")


def test_message_page_says_why_and_removes_the_suppression(
    page: Page, running: RunningSandbox, client: httpx.Client, send: Sender
) -> None:
    message_id = dropped_message(running, client, send)
    page.goto(f"/view/{message_id}")
    notice = page.locator(".dropped")
    expect(notice).to_contain_text("ann+bounce@example.com was dropped: rejected · Bounced Address")
    expect(notice).to_contain_text("on the SendGrid bounce list since")

    # "See the list" opens the list, searched for this address.
    notice.get_by_role("link", name="See the list").click()
    expect(page.locator("#suppressions tbody tr")).to_have_count(1)
    expect(page.locator("#suppression-q")).to_have_value("ann+bounce@example.com")
    page.go_back()

    page.get_by_role("button", name="Remove from the list").click()
    expect(page).to_have_url(re.compile(f"/view/{message_id}$"))
    expect(notice).to_contain_text("is no longer: new mail to it is delivered")
    expect(notice.get_by_role("button")).to_have_count(0)
    assert sendgrid_list(client, "bounces") == []


def test_a_new_bounce_shows_up_on_an_open_list(
    page: Page, client: httpx.Client, send: Sender
) -> None:
    page.goto("/ui/suppressions")
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    send(to="dee+bounce@example.com")  # bounces a moment later: the list refreshes itself
    expect(page.locator("#suppressions tbody tr")).to_have_count(1)
    expect(page.locator("#suppressions")).to_contain_text("dee+bounce@example.com")
