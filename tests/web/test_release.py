"""The message page's Release panel and the Inboxes page, in Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from mailsandbox.runner import RunningSandbox
from tests.sandbox.relay.sink import Sink, smtp_sink
from tests.web.conftest import Sender

pytestmark = pytest.mark.browser


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    with smtp_sink(tmp_path, refuse={"gone@example.org"}) as server:
        yield server


@pytest.fixture
def running(sandbox_factory: Callable[..., RunningSandbox], sink: Sink) -> RunningSandbox:
    """The sandbox the page fixture opens, releasing to the sink."""
    return sandbox_factory(relay_host=f"{sink.host}:{sink.port}", inbox_rule=["to:*@b.test=b"])


def test_release_a_message_and_see_the_outcome(page: Page, send: Sender, sink: Sink) -> None:
    send(subject="Invoice 7", to="ann@example.com")
    page.goto("/view/latest")
    field = page.get_by_label("Send to")
    expect(field).to_have_value("ann@example.com")  # the envelope recipients to start with

    field.fill("gone@example.org")
    page.get_by_role("button", name="Release").click()
    alert = page.locator("#release .notice-error")
    expect(alert).to_contain_text("Not released: SMTP error: RCPT TO:<gone@example.org>: 550")
    assert sink.messages == []

    page.get_by_label("Send to").fill("bob@example.org, carol@example.org")
    page.get_by_role("button", name="Release").click()
    expect(page.locator("#release [role=status]")).to_contain_text(
        "Released to bob@example.org, carol@example.org"
    )
    rows = page.locator("#release tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("queued as SINK42")  # newest first
    expect(rows.nth(1)).to_contain_text("failed")
    assert sink.messages[0].rcpt_tos == ["bob@example.org", "carol@example.org"]


def test_the_inboxes_page_adds_a_rule(page: Page, send: Sender) -> None:
    send(subject="To B", to="x@b.test")
    page.goto("/")
    page.get_by_role("link", name="Inboxes").click()
    expect(page.locator("#inbox-list")).to_contain_text("b")
    page.get_by_label("Add a rule").fill("subject:*invoice*=billing")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#inbox-rules tbody tr")).to_have_count(2)
    send(subject="Your invoice", to="y@example.com")
    page.reload()
    expect(page.locator("#inbox-list")).to_contain_text("billing")
    page.get_by_role("button", name="Delete the rule subject:*invoice*=billing").click()
    expect(page.locator("#inbox-rules tbody tr")).to_have_count(1)
