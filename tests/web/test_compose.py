"""Compose and Reply in a real browser: mail sent *in* from the UI is stored, routed through a
SendGrid Inbound Parse setting or a Mailgun route to the app (a local receiver), and its page
shows which rule matched and that the POST was delivered; the inbox marks it inbound."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from playwright.sync_api import Page, expect

from mailsandbox.runner import RunningSandbox
from tests.emulators.inbound_helpers import multipart_parts
from tests.sandbox.events.receiver import Receiver
from tests.web.mail import tiny_png

pytestmark = pytest.mark.browser


@pytest.fixture
def app() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def test_compose_sends_mail_in_through_a_parse_setting(
    page: Page, running: RunningSandbox, app: Receiver, tmp_path: Path
) -> None:
    setting = {"hostname": "support.example.com", "url": f"{app.url}/parse"}
    created = httpx.post(f"{running.url}/v3/user/webhooks/parse/settings", json=setting)
    assert created.status_code == 201
    picture = tmp_path / "screenshot.png"
    picture.write_bytes(tiny_png())

    page.goto("/")
    page.locator("#compose").click()
    expect(page.locator("#compose-title")).to_have_text("Compose inbound mail")
    page.get_by_label("From").fill("Dana Customer <dana@example.com>")
    page.get_by_label("To", exact=True).fill("help@support.example.com")
    page.get_by_label("Subject").fill("The app crashes")
    page.get_by_label("Text").fill("It crashes when I press Save.")
    page.get_by_label("Attachments").set_input_files(str(picture))
    page.locator("#compose-send").click()

    expect(page.locator("#subject")).to_have_text("The app crashes")
    section = page.locator("#inbound")
    expect(section).to_contain_text("SendGrid Inbound Parse")
    expect(section).to_contain_text("support.example.com")
    expect(section.locator(".state")).to_have_text("delivered")  # refreshes itself until then
    [post] = app.wait_for(1)
    parts = {p.name: p for p in multipart_parts(post.headers["Content-Type"], post.body)}
    assert parts["from"].text == "Dana Customer <dana@example.com>"
    assert parts["text"].text.strip() == "It crashes when I press Save."
    assert parts["attachment1"].data == tiny_png() and parts["attachment1"].filename == (
        "screenshot.png"
    )

    page.locator("#back").click()
    row = page.locator("#list .msg").first
    expect(row).to_contain_text("The app crashes")
    expect(row.locator(".badge.src-inbound")).to_have_text("Inbound")
    page.locator("#q").fill("is:inbound")
    expect(page.locator("#list .msg")).to_have_count(1)


def test_reply_answers_a_message_through_a_mailgun_route(
    page: Page, running: RunningSandbox, app: Receiver
) -> None:
    route = {"expression": 'match_recipient("reply\\+.*@in.shop.example")'}
    route["action"] = f'forward("{app.url}/reply")'
    assert httpx.post(f"{running.url}/v3/routes", data=route).status_code == 200
    notification = EmailMessage()
    notification["From"] = "Shop <shop@shop.example>"
    notification["To"] = "Erin <erin@example.com>"
    notification["Reply-To"] = "reply+order9@in.shop.example"
    notification["Subject"] = "Order 9 shipped"
    notification.set_content("Your parcel is on its way.\n")
    with smtplib.SMTP(running.smtp_host, running.smtp_port) as smtp:
        smtp.send_message(notification)

    page.goto("/view/latest")
    expect(page.locator("#subject")).to_have_text("Order 9 shipped")
    expect(page.locator("#inbound")).to_have_count(0)  # outbound mail: no inbound section
    page.locator("#reply").click()
    expect(page.locator("#compose-title")).to_have_text("Reply to “Order 9 shipped”")
    expect(page.get_by_label("From")).to_have_value("Erin <erin@example.com>")
    expect(page.get_by_label("To", exact=True)).to_have_value("reply+order9@in.shop.example")
    expect(page.get_by_label("Subject")).to_have_value("Re: Order 9 shipped")
    expect(page.locator("details.quote")).to_contain_text("> Your parcel is on its way.")
    page.get_by_label("Text").fill("It arrived, thanks!")
    page.locator("#compose-send").click()

    expect(page.locator("#subject")).to_have_text("Re: Order 9 shipped")
    section = page.locator("#inbound")
    expect(section).to_contain_text("Mailgun route")
    expect(section.locator(".state")).to_have_text("delivered")
    expect(page.locator("#webhook-attempts")).to_contain_text(f"{app.url}/reply")
    [post] = app.wait_for(1)
    form = {k: v[-1] for k, v in parse_qs(post.body.decode()).items()}
    assert form["recipient"] == "reply+order9@in.shop.example"
    assert form["stripped-text"] == "It arrived, thanks!"
    assert "> Your parcel is on its way." in form["body-plain"]
