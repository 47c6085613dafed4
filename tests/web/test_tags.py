"""Tags in a real browser: the sidebar (every tag, its count, a filter each), tag filters in the
list, adding and removing tags on a message, renaming and deleting a tag everywhere."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from mailsandbox.runner import RunningSandbox
from tests.web.conftest import Sender

pytestmark = pytest.mark.browser


def sidebar(page: Page) -> list[str]:
    """The sidebar's rows as "name count"."""
    rows: list[str] = page.eval_on_selector_all(
        ".tag-nav a",
        "links => links.map(a => a.querySelector('.tag-name').textContent + ' '"
        " + a.querySelector('.tag-count').textContent)",
    )
    return rows


def api_tags(running: RunningSandbox) -> list[str]:
    tags: list[str] = httpx.get(f"{running.url}/api/v1/tags").json()
    return tags


def test_sidebar_counts_and_filters(page: Page, send: Sender, running: RunningSandbox) -> None:
    send(subject="invoice one", x_tags="invoice, billing")
    send(subject="invoice two", x_tags="invoice")
    send(subject="untagged")
    page.goto("/")
    expect(page.locator(".tag-nav a")).to_have_count(2)
    assert sidebar(page) == ["billing 1", "invoice 2"]
    page.click(".tag-nav a:has-text('invoice')")
    expect(page).to_have_url("/?q=tag%3Ainvoice")
    expect(page.locator(".msg")).to_have_count(2)
    expect(page.locator(".tag-nav li.active")).to_contain_text("invoice")
    expect(page.locator("#q")).to_have_value("tag:invoice")

    page.goto("/")
    row = page.locator(".msg", has_text="invoice one")
    row.locator(".msg-tags a", has_text="billing").click()  # a tag in the list is a filter
    expect(page).to_have_url("/?q=tag%3Abilling")
    expect(page.locator(".msg")).to_have_count(1)
    expect(page.locator(".msg .tag-active")).to_have_text("billing")

    # Tags set elsewhere show up live.
    ids = [m["ID"] for m in httpx.get(f"{running.url}/api/v1/messages").json()["messages"]]
    assert httpx.put(f"{running.url}/api/v1/tags", json={"IDs": ids, "Tags": ["all"]}).is_success
    expect(page.locator(".tag-nav a")).to_have_count(1)
    assert sidebar(page) == ["all 3"]


def test_add_and_remove_tags_on_a_message(
    page: Page, send: Sender, running: RunningSandbox
) -> None:
    send(subject="tag me", x_tags="first")
    page.goto("/view/latest")
    tags = page.locator("#message-tags .tag a")
    expect(tags).to_have_text(["first"])
    page.fill("#add-tag", "urgent, needs review")
    page.click("#message-tags button:has-text('Add')")
    expect(tags).to_have_text(["first", "needs review", "urgent"])
    expect(page.locator("#add-tag")).to_have_value("")
    page.click("[aria-label='Remove the tag first']")
    expect(tags).to_have_text(["needs review", "urgent"])
    assert api_tags(running) == ["needs review", "urgent"]
    page.click("#message-tags a:has-text('needs review')")  # a message's tag is a filter too
    expect(page).to_have_url("/?q=tag%3A%22needs%20review%22")
    expect(page.locator(".msg")).to_have_count(1)


def test_rename_and_delete_a_tag_everywhere(
    page: Page, send: Sender, running: RunningSandbox
) -> None:
    send(subject="a", x_tags="old, other")
    send(subject="b", x_tags="old")
    page.goto("/?q=tag:old")
    expect(page.locator(".msg")).to_have_count(2)
    page.click("[aria-label='Rename or delete the tag old']")
    dialog = page.locator("#tag-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#tag-dialog-input")).to_have_value("old")

    page.fill("#tag-dialog-input", "other")  # taken: refused, said in the dialog
    page.click("#tag-dialog button:has-text('Rename')")
    expect(page.locator("#tag-error")).to_contain_text("tag already exists: other")
    assert api_tags(running) == ["old", "other"]

    page.fill("#tag-dialog-input", "renamed")
    page.click("#tag-dialog button:has-text('Rename')")
    expect(page).to_have_url("/?q=tag%3Arenamed")  # the search follows the rename
    expect(page.locator(".msg")).to_have_count(2)
    assert sidebar(page) == ["other 1", "renamed 2"]
    assert api_tags(running) == ["other", "renamed"]

    page.on("dialog", lambda confirm: confirm.accept())
    page.click("[aria-label='Rename or delete the tag other']")
    page.click("#tag-delete")
    expect(page.locator(".tag-nav a")).to_have_count(1)
    assert sidebar(page) == ["renamed 2"]
    assert len(httpx.get(f"{running.url}/api/v1/messages").json()["messages"]) == 2  # kept
