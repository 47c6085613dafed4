"""The message page's Links tab and one-time Codes section, on a password-reset mail (SMTP)."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page, expect

from mailsandbox.runner import RunningSandbox
from tests.web.conftest import Sender

pytestmark = pytest.mark.browser

RESET = "https://app.example/reset?token=tok-7f3a"
TRACKED = f"https://click.tracker.example/ls/click?upn=u001&url={quote(RESET, safe='')}"


def password_reset() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Acme <no-reply@acme.example>"
    msg["To"] = "bob@example.com"
    msg["Subject"] = "Reset your password"
    msg.set_content(
        "Hi Bob,\n\nYour verification code is 482913\n\n"
        f"Reset your password: {TRACKED}\n\nHelp: https://acme.example/help\n"
    )
    msg.add_alternative(
        "<html><body><p>Hi Bob,</p><p>Your verification code is <b>482913</b></p>"
        f'<p><a href="{TRACKED.replace("&", "&amp;")}">Reset your password</a></p>'
        '<p><a href="https://acme.example/help">Help center</a> · '
        '<a href="mailto:support@acme.example">Write to us</a></p></body></html>',
        subtype="html",
    )
    return msg


def test_reset_mail_shows_its_code_and_links(
    page: Page, send: Sender, running: RunningSandbox
) -> None:
    send(password_reset())
    page.goto("/view/latest")
    expect(page.locator("#subject")).to_have_text("Reset your password")

    codes = page.locator("#codes")
    expect(codes.locator(".code-value")).to_have_text(["482913"])
    expect(codes.locator(".code-context")).to_contain_text("verification code is 482913")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    codes.locator("button.copy").click()
    expect(codes.locator("button.copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "482913"

    expect(page.locator("#tab-links")).to_have_text("Links (3)")
    page.click("#tab-links")
    rows = page.locator("#panel-links tbody tr")
    expect(rows).to_have_count(3)
    reset = rows.filter(has_text="Reset your password")
    expect(reset.locator("a.link-url")).to_have_attribute("href", TRACKED)
    expect(reset.locator(".link-target a")).to_have_text(RESET)  # the real target, unwrapped
    expect(rows.filter(has_text="Help center").locator(".link-target")).to_have_count(0)
    expect(rows.filter(has_text="Write to us").locator("a.link-url")).to_have_attribute(
        "href", "mailto:support@acme.example"
    )
    for link in page.locator("#panel-links a").all():
        assert link.get_attribute("rel") == "noreferrer noopener"

    # The page shows what the testing API returns (both use mailsandbox.extract).
    message_id = page.get_attribute("body", "data-id")
    api_links = httpx.get(f"{running.url}/api/v1/message/{message_id}/links").json()["links"]
    assert [link["url"] for link in api_links] == rows.locator(".link-url").all_inner_texts()
    api_codes = httpx.get(f"{running.url}/api/v1/message/{message_id}/codes").json()["codes"]
    assert [c["code"] for c in api_codes] == ["482913"]


def test_plain_mail_has_no_codes_and_no_links(page: Page, send: Sender) -> None:
    send(subject="Lunch?", body="Shall we meet at noon, order 20240612?")
    page.goto("/view/latest")
    expect(page.locator("#subject")).to_have_text("Lunch?")
    expect(page.locator("#codes")).to_have_count(0)
    page.click("#tab-links")
    expect(page.locator("#panel-links")).to_contain_text("No links in this message.")


def test_big_mail_loads_its_codes_and_links_after_the_page(page: Page, send: Sender) -> None:
    msg = password_reset()
    msg.replace_header("Subject", "Big reset")
    filler = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 1300 + "</p>"
    html = msg.get_body(preferencelist=("html",))
    assert html is not None
    html.set_content(str(html.get_content()).replace("<p>Hi Bob,</p>", filler), subtype="html")
    send(msg)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/view/latest")
    expect(page.locator("#subject")).to_have_text("Big reset")
    expect(page.locator("#codes .code-value")).to_have_text(["482913"])
    expect(page.locator("#tab-links")).to_have_text("Links")
    assert not any(url.endswith("/links") for url in requests)  # not before the tab is shown
    page.click("#tab-links")
    rows = page.locator("#panel-links tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="Reset your password").locator(".link-target a")).to_have_text(
        RESET
    )
    assert any(url.endswith("/codes") for url in requests)
