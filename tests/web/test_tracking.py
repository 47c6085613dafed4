"""Open and click tracking from the UI: "open as recipient" shows the mail with the tracking
its send asked for, and opening it and following a link record real delivery events."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page

from mailsandbox.runner import RunningSandbox
from tests.waiting import eventually

pytestmark = pytest.mark.browser


def event_types(api: httpx.Client, message_id: str) -> list[str]:
    return [e["Type"] for e in api.get(f"/api/v1/message/{message_id}/events").json()["events"]]


def wait_for_event(api: httpx.Client, message_id: str, kind: str) -> None:
    def recorded() -> bool:
        types = event_types(api, message_id)
        assert kind in types, f"no {kind} event: {types}"
        return True

    eventually(recorded)


def test_open_as_recipient_records_open_and_click(page: Page, running: RunningSandbox) -> None:
    api = httpx.Client(base_url=running.url, timeout=10)
    landing = f"{running.url}/livez"  # a link target the test can follow without a network
    sent = api.post(
        "/v3/mail/send",
        headers={"Authorization": "Bearer SG.key"},
        json={
            "personalizations": [{"to": [{"email": "carol@example.com"}]}],
            "from": {"email": "app@example.com"},
            "subject": "Tracked",
            "content": [{"type": "text/html", "value": f'<p><a href="{landing}">Go</a></p>'}],
            "tracking_settings": {
                "open_tracking": {"enable": True},
                "click_tracking": {"enable": True},
            },
        },
    )
    assert sent.status_code == 202, sent.text
    message_id = api.get("/api/v1/messages").json()["messages"][0]["ID"]
    assert "opened" not in event_types(api, message_id)

    page.goto(f"{running.url}/view/{message_id}")
    link = page.get_by_role("link", name="carol@example.com")
    with page.context.expect_page() as opened:
        link.click()
    recipient_view = opened.value
    recipient_view.wait_for_load_state()
    wait_for_event(api, message_id, "opened")  # the tracking pixel was loaded

    recipient_view.get_by_role("link", name="Go").click()
    recipient_view.wait_for_url(landing)
    wait_for_event(api, message_id, "clicked")
    clicked = [
        e
        for e in api.get(f"/api/v1/message/{message_id}/events").json()["events"]
        if e["Type"] == "clicked"
    ]
    assert clicked[0]["Recipient"] == "carol@example.com"
    api.close()


def test_no_recipient_view_without_tracking(page: Page, running: RunningSandbox) -> None:
    with httpx.Client(base_url=running.url, timeout=10) as api:
        sent = api.post(
            "/api/v1/send",
            json={
                "From": {"Email": "a@example.com"},
                "To": [{"Email": "dan@example.com"}],
                "Subject": "Untracked",
                "HTML": "<p>hi</p>",
            },
        )
        assert sent.status_code == 200, sent.text
        page.goto(f"{running.url}/view/{sent.json()['ID']}")
    assert page.get_by_text("open as recipient").count() == 0
