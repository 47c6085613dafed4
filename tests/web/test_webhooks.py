"""Webhooks in the UI: a message's webhook attempts (live, with replay) and the signing keys."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from mailsandbox.runner import RunningSandbox
from tests.web.conftest import Beacon

pytestmark = pytest.mark.browser

SG = {"Authorization": "Bearer SG.key"}


@pytest.fixture
def client(running: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running.url, timeout=10) as http:
        yield http


def sendgrid_mail(client: httpx.Client, subject: str) -> None:
    sent = client.post(
        "/v3/mail/send",
        headers=SG,
        json={
            "personalizations": [{"to": [{"email": "bob@example.com"}]}],
            "from": {"email": "app@example.com"},
            "subject": subject,
            "content": [{"type": "text/plain", "value": "hello"}],
        },
    )
    assert sent.status_code == 202, sent.text


def sendgrid_webhook(client: httpx.Client, url: str, *events: str) -> None:
    """Turn on SendGrid's Event Webhook to ``url`` for these event types."""
    settings = {"enabled": True, "url": url, **dict.fromkeys(events, True)}
    hook = client.post("/v3/user/webhooks/event/settings", headers=SG, json=settings)
    assert hook.status_code == 201, hook.text


def test_message_page_shows_webhook_attempts_live(
    page: Page, client: httpx.Client, beacon: Beacon
) -> None:
    sendgrid_webhook(client, f"{beacon.url}/sg", "processed", "open")
    sendgrid_mail(client, "Webhook me")
    page.goto("/view/latest")
    expect(page.locator("#subject")).to_have_text("Webhook me")
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    page.evaluate("window.__samePage = true")  # proves nothing below reloads the page

    attempts = page.locator("#webhook-attempts tbody tr")
    expect(attempts).to_have_count(1)  # "processed", sent while (or before) the page loaded
    first = attempts.first
    expect(first).to_contain_text("SendGrid")
    expect(first).to_contain_text(f"{beacon.url}/sg")
    expect(first.locator(".http")).to_have_text("200")
    expect(first).to_contain_text("#1 delivered")
    expect(first).to_contain_text(" ms")
    assert beacon.hits == ["/sg"]

    # A new event on the open page: its webhook attempt shows up without a reload.
    message_id = page.get_attribute("body", "data-id")
    opened = client.post(f"/api/v1/message/{message_id}/events", json={"type": "opened"})
    assert opened.status_code == 200, opened.text
    expect(attempts).to_have_count(2)
    assert beacon.hits == ["/sg", "/sg"]

    # Replay the newest one through the replay API: a second attempt of the same delivery.
    expect(page.locator("#webhook-attempts button:has-text('Replay')")).to_have_count(2)
    attempts.first.locator("button:has-text('Replay')").click()
    expect(attempts).to_have_count(3)
    expect(attempts.first).to_contain_text("#2 delivered")
    assert len(beacon.hits) == 3
    assert page.evaluate("window.__samePage") is True

    listed = client.get("/api/v1/webhooks/deliveries", params={"message": message_id}).json()
    assert [d["Attempt"] for d in listed["deliveries"]] == [2, 1, 1]


def test_rules_page_shows_signing_keys_and_endpoints(
    page: Page, client: httpx.Client, beacon: Beacon
) -> None:
    sendgrid_webhook(client, f"{beacon.url}/events", "delivered")
    signed = client.patch(
        "/v3/user/webhooks/event/settings/signed", headers=SG, json={"enabled": True}
    )
    assert signed.status_code == 200, signed.text
    public_key = client.get("/v3/user/webhooks/event/settings/signed", headers=SG).json()
    signing_key = client.get("/v5/accounts/http_signing_key", auth=("api", "key-test")).json()
    assert public_key["public_key"] and signing_key["http_signing_key"]

    page.goto("/")
    page.click("nav >> text=Rules & webhooks")
    expect(page.locator("#sendgrid-key code.key")).to_have_text(public_key["public_key"])
    expect(page.locator("#sendgrid-key")).to_contain_text(
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"
    )
    expect(page.locator("#mailgun-key code.key")).to_have_text(signing_key["http_signing_key"])
    expect(page.locator("#mailgun-key")).to_contain_text("MAILGUN_WEBHOOK_SIGNING_KEY")

    endpoint = page.locator("#endpoints tr", has_text=f"{beacon.url}/events")
    expect(endpoint).to_contain_text("SendGrid")
    expect(endpoint.locator(".tag")).to_have_text(["delivered"])


def test_rules_page_adds_a_rule(page: Page) -> None:
    page.goto("/ui/rules")
    form = page.locator("#add-rule")
    form.locator("input[name=recipient]").fill("*@bounce.example")
    form.locator("select[name=outcome]").select_option("bounced")
    form.locator("button[type=submit]").click()
    row = page.locator("#rules tbody tr", has_text="*@bounce.example")
    expect(row.locator(".event")).to_have_text("bounced")
