"""The rules page in a real browser: the form shows only the fields of the chosen stage, and
rules are switched on and off and reordered with their buttons (same data as the API)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from mailsandbox.runner import RunningSandbox

pytestmark = pytest.mark.browser

FIELDS = ("recipient", "sender", "subject", "source", "outcome", "reply", "reason")


def visible_fields(page: Page) -> list[str]:
    return [f for f in FIELDS if page.locator(f"#add-rule [name={f}]").is_visible()]


def rules(running: RunningSandbox) -> list[dict[str, object]]:
    found: list[dict[str, object]] = httpx.get(f"{running.url}/api/v1/rules").json()["rules"]
    return found


def test_form_shows_the_fields_of_the_stage(page: Page, running: RunningSandbox) -> None:
    page.goto("/ui/rules")
    stage = page.locator("#rule-stage")
    assert visible_fields(page) == ["recipient", "sender", "subject", "source", "outcome", "reason"]
    stage.select_option("AUTH")
    expect(page.locator("#add-rule [name=outcome]")).to_be_hidden()
    assert visible_fields(page) == ["reply"]
    stage.select_option("MAIL")
    assert visible_fields(page) == ["sender", "reply"]
    stage.select_option("RCPT")
    assert visible_fields(page) == ["recipient", "sender", "reply"]
    stage.select_option("DATA")
    assert visible_fields(page) == ["recipient", "sender", "subject", "reply"]

    page.fill("#add-rule [name=recipient]", "*@blocked.example")
    page.fill("#add-rule [name=reply]", "550 5.7.1 Go away")
    page.click("#add-rule button[type=submit]")
    expect(page.locator("#rules tbody tr")).to_have_count(1)
    (rule,) = rules(running)
    assert (rule["stage"], rule["recipient"], rule["reply"], rule["outcome"]) == (
        "DATA",
        "*@blocked.example",
        "550 5.7.1 Go away",
        "",  # the hidden outcome field was not sent
    )


def test_switch_off_and_reorder(page: Page, running: RunningSandbox) -> None:
    for name in ("first", "second", "third"):
        httpx.post(
            f"{running.url}/api/v1/rules", json={"recipient": f"{name}@*", "outcome": "bounced"}
        )
    ids = [r["id"] for r in rules(running)]
    page.goto("/ui/rules")
    rows = page.locator("#rules tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first.get_by_role("button", name="Move up (tried earlier)")).to_be_disabled()
    expect(rows.last.get_by_role("button", name="Move down (tried later)")).to_be_disabled()

    switch = rows.nth(1).get_by_role("switch")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    expect(rows.nth(1)).to_have_class("rule-off")
    expect(rows.nth(1).get_by_role("switch")).to_have_attribute("aria-checked", "false")
    assert [r["enabled"] for r in rules(running)] == [True, False, True]
    rows.nth(1).get_by_role("switch").click()
    expect(rows.nth(1).get_by_role("switch")).to_have_attribute("aria-checked", "true")

    rows.nth(2).get_by_role("button", name="Move up (tried earlier)").click()
    expect(rows.nth(1)).to_contain_text("third@*")
    assert [r["id"] for r in rules(running)] == [ids[0], ids[2], ids[1]]
    rows.first.get_by_role("button", name="Move down (tried later)").click()
    expect(rows.first).to_contain_text("third@*")
    assert [r["id"] for r in rules(running)] == [ids[2], ids[0], ids[1]]
