"""The message view in a real browser: every field and tab, downloads, ESP metadata, events."""

from __future__ import annotations

import smtplib
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from mailsandbox.runner import RunningSandbox
from tests.web.conftest import Beacon, Sender
from tests.web.mail import ATTACHMENT, rich_message, tiny_png

pytestmark = pytest.mark.browser


def open_latest(page: Page, subject: str) -> None:
    page.goto("/")
    page.click(f".msg:has-text('{subject}') a")
    expect(page.locator("#subject")).to_have_text(subject)
    expect(page.locator("body")).to_have_attribute("data-live", "on")


def test_fields_and_every_tab(page: Page, send: Sender) -> None:
    send(rich_message(), to_addrs=["bob@example.com", "carol@example.com", "hidden@example.com"])
    open_latest(page, "Your invoice #1042")
    head = page.locator(".message-head")
    expect(head).to_contain_text("Billing Team <billing@shop.example>")
    expect(head).to_contain_text("Bob Example <bob@example.com>")
    expect(head).to_contain_text("carol@example.com")
    expect(head).to_contain_text("support@shop.example")
    bcc = head.locator(".addr", has_text="hidden@example.com")
    expect(bcc.locator(".badge")).to_have_text("envelope only")
    expect(head.locator(".tag")).to_have_text(["billing", "invoice"])
    expect(head).to_contain_text("SMTP")

    # HTML preview: rendered in the sandboxed frame, inline cid image loaded.
    frame = page.frame_locator("#preview")
    expect(frame.locator("#h")).to_have_text("HTML-MARKER")
    expect(frame.locator("#logo")).to_have_js_property("naturalWidth", 4)
    assert (
        page.get_attribute("#preview", "sandbox") == "allow-popups allow-popups-to-escape-sandbox"
    )
    page.click("button[data-width=phone]")
    expect(page.locator("#preview")).to_have_js_property("offsetWidth", 375)
    expect(page.locator("button[data-width=phone]")).to_have_attribute("aria-pressed", "true")

    page.click("#tab-text")
    expect(page.locator("#panel-text")).to_contain_text("PLAIN-MARKER")
    expect(page.locator("#panel-html")).to_be_hidden()

    page.click("#tab-headers")
    row = page.locator("#panel-headers tr", has_text="Subject")
    expect(row.locator("td")).to_have_text("Your invoice #1042")

    page.click("#tab-raw")
    expect(page.locator("#panel-raw .raw")).to_contain_text("Content-Type: multipart/mixed")
    with page.expect_download() as eml:
        page.click("#panel-raw a:has-text('Download .eml')")
    assert eml.value.suggested_filename.endswith(".eml")
    assert b"Subject: Your invoice #1042" in Path(eml.value.path()).read_bytes()

    page.click("#tab-attachments")
    files = page.locator("#panel-attachments .file")
    expect(files).to_have_count(3)  # invoice.pdf, chart.png and the inline logo
    with page.expect_download() as pdf:
        page.click("[aria-label='Download invoice.pdf']")
    assert pdf.value.suggested_filename == "invoice.pdf"
    assert Path(pdf.value.path()).read_bytes() == ATTACHMENT
    thumb = page.locator("img[alt='Preview of chart.png']")
    expect(thumb).to_have_js_property("naturalWidth", 8)
    with page.expect_download() as png:
        page.click("[aria-label='Download chart.png']")
    assert Path(png.value.path()).read_bytes() == tiny_png(8, 6)


def test_opening_marks_read_and_mark_unread(page: Page, send: Sender) -> None:
    send(subject="read me")
    page.goto("/")
    expect(page).to_have_title("(1) Inbox · mailsandbox")
    page.click("text=read me")
    expect(page).to_have_title("read me · mailsandbox")
    page.click("button:has-text('Mark unread')")
    expect(page.locator(".msg.unread")).to_have_count(1)
    expect(page).to_have_title("(1) Inbox · mailsandbox")


def test_esp_metadata_is_shown(page: Page, running: RunningSandbox) -> None:
    with httpx.Client(base_url=running.url) as client:
        sent = client.post(
            "/v3/mail/send",
            headers={"Authorization": "Bearer SG.key"},
            json={
                "personalizations": [
                    {"to": [{"email": "bob@example.com"}], "custom_args": {"user_id": "42"}}
                ],
                "from": {"email": "app@example.com"},
                "subject": "Welcome via SendGrid",
                "content": [{"type": "text/plain", "value": "hi"}],
                "categories": ["welcome", "onboarding"],
            },
        )
        assert sent.status_code == 202
        sent = client.post(
            "/v3/example.com/messages",
            auth=("api", "key-test"),
            data={
                "from": "app@example.com",
                "to": "bob@example.com",
                "subject": "News via Mailgun",
                "text": "hi",
                "o:tag": "newsletter",
                "v:plan": "pro",
            },
        )
        assert sent.status_code == 200
    page.goto("/")
    expect(page.locator(".msg", has_text="Welcome via SendGrid").locator(".badge")).to_have_text(
        "SendGrid"
    )
    page.click("text=Welcome via SendGrid")
    meta = page.locator(".esp")
    expect(meta).to_contain_text("SendGrid metadata")
    expect(meta.locator(".tag")).to_have_text(["welcome", "onboarding"])
    expect(meta).to_contain_text("user_id = 42")
    page.goto("/")
    page.click("text=News via Mailgun")
    meta = page.locator(".esp")
    expect(meta).to_contain_text("Mailgun metadata")
    expect(meta.locator(".tag")).to_have_text(["newsletter"])
    expect(meta).to_contain_text("plan = pro")


def test_delivery_events_section(page: Page, send: Sender, running: RunningSandbox) -> None:
    send(subject="tracked", to="bob@example.com")
    open_latest(page, "tracked")
    events = page.locator("#events")
    expect(events.locator(".event").first).to_have_text("queued")
    expect(events.locator(".event-bounced")).to_have_count(0)
    message_id = page.get_attribute("body", "data-id")
    response = httpx.post(
        f"{running.url}/api/v1/message/{message_id}/events",
        json={"type": "bounced", "reason": "mailbox full"},
    )
    assert response.status_code == 200, response.text
    expect(events.locator(".event-bounced")).to_have_count(1)  # live, no reload
    expect(events).to_contain_text("mailbox full")

    page.select_option("#event-type", "complained")  # the UI's own simulate form
    page.click("button:has-text('Simulate')")
    expect(page.locator(".event-status")).to_have_text("Recorded.")
    expect(events.locator(".event-complained")).to_have_count(1)


def test_remote_content_blocked_until_asked(page: Page, send: Sender, beacon: Beacon) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "news@example.com"
    msg["To"] = "bob@example.com"
    msg["Subject"] = "remote images"
    msg.set_content("text")
    msg.add_alternative(
        f'<p>pixel <img id="px" src="{beacon.url}/pixel.gif" width="1" height="1"></p>',
        subtype="html",
    )
    send(msg)
    open_latest(page, "remote images")
    pixel = page.frame_locator("#preview").locator("#px")
    expect(pixel).to_have_js_property("complete", True)  # its load was tried, and failed:
    expect(pixel).to_have_js_property("naturalWidth", 0)
    assert beacon.hits == []
    expect(page.locator("#remote-bar")).to_be_visible()
    page.click("#load-remote")
    expect(page.frame_locator("#preview").locator("#px")).to_have_js_property("naturalWidth", 1)
    assert beacon.hits == ["/pixel.gif"]


def test_a_message_without_date_shows_its_received_time(
    page: Page, running: RunningSandbox
) -> None:
    raw = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Undated\r\n\r\nNo date.\r\n"
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.sendmail("a@example.com", ["b@example.com"], raw)
    created = httpx.get(f"{running.url}/api/v1/messages").json()["messages"][0]["Created"]
    open_latest(page, "Undated")
    row = page.locator(".message-head dt:text-is('Date') + dd")
    expect(row).to_contain_text("(no Date header)")
    shown = datetime.strptime(
        row.locator("#date-received").inner_text(), "%a, %d %b %Y %H:%M:%S %z"
    )
    received = datetime.fromisoformat(created.replace("Z", "+00:00"))
    assert abs((shown - received).total_seconds()) < 1
