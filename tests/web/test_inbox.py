"""The inbox in a real browser: live arrival, search in the URL, deletes, keyboard, phone width."""

from __future__ import annotations

from email.message import EmailMessage

import httpx
import pytest
from playwright.sync_api import Page, expect

from mailsandbox.runner import RunningSandbox
from tests.web.conftest import Sender

pytestmark = pytest.mark.browser


def test_empty_state_explains_how_to_send(page: Page, running: RunningSandbox) -> None:
    page.goto("/")
    empty = page.locator(".empty")
    expect(empty).to_contain_text("No messages yet")
    expect(empty).to_contain_text(str(running.smtp_port))
    expect(empty).to_contain_text("/v3/mail/send")
    expect(empty).to_contain_text("/v3/example.com/messages")
    expect(empty).to_contain_text("smtplib.SMTP")


def test_message_sent_while_open_appears_without_reload(page: Page, send: Sender) -> None:
    page.goto("/")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator(".empty")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-live", "on")  # SSE connected
    expect(page.locator("#live")).to_have_text("Live")
    send(subject="Live arrival", sender="Live Sender <live@example.com>")
    row = page.locator(".msg", has_text="Live arrival")
    expect(row).to_be_visible()  # how fast: bench/ui_pages.py measures it (~0.3 s)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    expect(row).to_have_class("msg unread")
    expect(row.locator(".msg-sender")).to_have_text("Live Sender")
    expect(row.locator(".badge")).to_have_text("SMTP")
    expect(page).to_have_title("(1) Inbox · mailsandbox")

    send(subject="Second one")
    expect(page.locator(".msg").first).to_contain_text("Second one")  # newest first
    expect(page).to_have_title("(2) Inbox · mailsandbox")


def test_search_narrows_the_list_and_lives_in_the_url(page: Page, send: Sender) -> None:
    for subject in ("alpha report", "beta report", "gamma notes"):
        send(subject=subject)
    page.goto("/")
    expect(page.locator(".msg")).to_have_count(3)
    page.fill("#q", 'subject:"report" -subject:beta')
    expect(page.locator(".msg")).to_have_count(1)
    expect(page.locator(".msg")).to_contain_text("alpha report")
    expect(page).to_have_url("/?q=subject%3A%22report%22+-subject%3Abeta")
    page.reload()  # bookmarkable
    expect(page.locator("#q")).to_have_value('subject:"report" -subject:beta')
    expect(page.locator(".msg")).to_have_count(1)
    page.fill("#q", "nothing-matches-this")
    expect(page.locator(".notice")).to_contain_text("No messages match")


def test_delete_from_message_view_and_elsewhere(
    page: Page, send: Sender, running: RunningSandbox
) -> None:
    send(subject="keep me")
    send(subject="delete me")
    send(subject="deleted elsewhere")
    page.goto("/")
    page.click("text=delete me")
    expect(page.locator("#subject")).to_have_text("delete me")
    page.click("button:has-text('Delete')")
    expect(page.locator("#subject")).to_have_text("keep me")  # moved on to the next message
    page.goto("/")
    expect(page.locator(".msg")).to_have_count(2)
    expect(page.locator(".msg", has_text="delete me")).to_have_count(0)

    target = page.locator(".msg", has_text="deleted elsewhere").get_attribute("data-id")
    other = page.context.new_page()  # the same message open in a second tab
    other.goto(f"/view/{target}")
    expect(other.locator("#gone")).to_be_hidden()
    expect(other.locator("body")).to_have_attribute("data-live", "on")
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    response = httpx.request("DELETE", f"{running.url}/api/v1/messages", json={"IDs": [target]})
    assert response.status_code == 200
    expect(page.locator(".msg", has_text="deleted elsewhere")).to_have_count(0)
    expect(page.locator(".msg")).to_have_count(1)
    expect(other.locator("#gone")).to_contain_text("This message has been deleted")


def test_bulk_actions_mark_read_delete_results_delete_all(page: Page, send: Sender) -> None:
    for subject in ("one", "two", "drop this", "drop that"):
        send(subject=subject)
    page.goto("/")
    expect(page).to_have_title("(4) Inbox · mailsandbox")
    page.click("text=Mark all read")
    expect(page.locator(".msg.unread")).to_have_count(0)
    expect(page).to_have_title("Inbox · mailsandbox")

    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("#q", "subject:drop")
    expect(page.locator(".msg")).to_have_count(2)
    page.click("text=Delete results")
    expect(page.locator(".notice")).to_contain_text("No messages match")
    page.fill("#q", "")
    expect(page.locator(".msg")).to_have_count(2)
    page.click("text=Delete all")
    expect(page.locator(".empty")).to_be_visible()


def test_inbox_switcher_filters_by_inbox(page: Page, send: Sender) -> None:
    send(subject="for team a", x_sandbox_inbox="team-a")
    send(subject="for team b", x_sandbox_inbox="team-b")
    page.goto("/")
    switcher = page.get_by_label("Inbox", exact=True)
    expect(switcher).to_be_visible()
    switcher.select_option("team-b")
    expect(page.locator(".msg")).to_have_count(1)
    expect(page.locator(".msg")).to_contain_text("for team b")
    expect(page).to_have_url("/?inbox=team-b")


def test_keyboard_navigation(page: Page, send: Sender) -> None:
    for subject in ("first", "second", "third"):
        send(subject=subject)
    page.goto("/")
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    expect(page.locator(".msg.selected")).to_contain_text("third")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator(".msg.selected")).to_contain_text("first")
    page.keyboard.press("k")
    expect(page.locator(".msg.selected")).to_contain_text("second")
    page.keyboard.press("Enter")
    expect(page.locator("#subject")).to_have_text("second")
    page.wait_for_load_state("load")  # the message page's keys work once its scripts ran
    page.keyboard.press("j")  # older
    expect(page.locator("#subject")).to_have_text("first")
    page.keyboard.press("Escape")
    expect(page.locator("#list")).to_be_visible()
    page.keyboard.press("j")
    expect(page.locator(".msg.selected")).to_contain_text("third")
    page.keyboard.press("Delete")
    expect(page.locator(".msg")).to_have_count(2)
    expect(page.locator(".msg", has_text="third")).to_have_count(0)


def test_phone_width_has_no_horizontal_scroll(page: Page, send: Sender) -> None:
    long = "averyveryverylongwordwithoutanybreakopportunity" * 3
    msg = EmailMessage()
    msg["From"] = f"{long} <{long[:60]}@example.com>"
    msg["To"] = ", ".join(f"user{i}@{long[:40]}.example" for i in range(5))
    msg["Subject"] = f"Subject {long}"
    msg["X-Tags"] = "one, two, three"
    msg.set_content(long)
    send(msg)
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/", "/view/latest"):
        page.goto(path)
        page.wait_for_load_state("load")
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"{path}: horizontal scroll {widths}"
