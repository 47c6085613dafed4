"""Resend templates through the Python SDK: create, get by id and alias, list, update, publish,
duplicate, delete; sends with a template (variables, fallbacks, the template's sender and
subject), and the refusals (draft, missing variable, html beside a template)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from resend.exceptions import ResendError

from mailsandbox.runner import RunningSandbox
from tests.emulators.resend.conftest import by_resend_id
from tests.emulators.stored import raw_message


def test_templates_and_template_sends(
    running: RunningSandbox, api: httpx.Client, sdk: Any, rs: httpx.Client
) -> None:
    created = sdk.Templates.create({
        "name": "order-confirmation",
        "alias": "order",
        "from": "Shop <shop@example.com>",
        "subject": "Order {{{ORDER}}} confirmed",
        "html": "<p>Hi {{{NAME}}}, {{ITEM}} is on its way</p>",
        "text": "Hi {{{NAME}}}",
        "variables": [
            {"key": "NAME", "type": "string", "fallback_value": "there"},
            {"key": "ORDER", "type": "number"},
            {"key": "ITEM", "type": "string", "fallback_value": "your parcel"},
        ],
    })  # fmt: skip
    assert created["object"] == "template"
    draft = sdk.Templates.get("order")
    assert draft["id"] == created["id"] and draft["status"] == "draft"
    with pytest.raises(ResendError) as unpublished:
        sdk.Emails.send({"to": ["ann@example.com"], "template": {"id": "order"}})
    assert "is not published" in unpublished.value.message
    sdk.Templates.publish(created["id"])
    assert sdk.Templates.get(created["id"])["status"] == "published"
    sdk.Templates.update({"id": created["id"], "text": "Hi {{{NAME}}}, order {{{ORDER}}}"})

    sent = sdk.Emails.send({
        "to": ["ann@example.com"],
        "template": {"id": "order", "variables": {"ORDER": 42, "ITEM": "<b>a lamp</b>"}},
    })  # fmt: skip
    stored = by_resend_id(running, sent["id"])
    assert stored.subject == "Order 42 confirmed" and stored.from_.address == "shop@example.com"
    parsed = raw_message(api, stored.id)
    html = parsed.get_body(("html",)).get_content()
    assert "Hi there, &lt;b&gt;a lamp&lt;/b&gt; is on its way" in html
    assert parsed.get_body(("plain",)).get_content().strip() == "Hi there, order 42"

    missing = rs.post("/emails", json={"to": ["b@example.com"], "template": {"id": "order"}})
    assert missing.status_code == 422 and missing.json()["message"] == (
        "Missing required variable `ORDER`."
    )
    both = rs.post("/emails", json={"to": ["b@example.com"], "html": "<p>x</p>",
                                    "template": {"id": "order"}})  # fmt: skip
    assert both.json()["name"] == "validation_error"
    assert rs.post("/templates", json={"name": "x"}).json()["name"] == "missing_required_field"
    copy = sdk.Templates.duplicate(created["id"])
    listed = sdk.Templates.list()["data"]
    assert {t["id"] for t in listed} == {created["id"], copy["id"]}
    assert sdk.Templates.remove(copy["id"])["deleted"] is True
    assert rs.get(f"/templates/{copy['id']}").json()["name"] == "not_found"
