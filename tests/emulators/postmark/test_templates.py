"""Postmark templates through postmarker and raw HTTP: create, get, list, edit, delete,
validate, layouts, and template sends (single and batch)."""

from __future__ import annotations

import httpx
from postmarker.core import PostmarkClient

from mailsandbox.runner import RunningSandbox
from tests.emulators.postmark.conftest import by_postmark_id
from tests.emulators.stored import listed, raw_message


def test_templates_api_and_template_sends(
    running: RunningSandbox, api: httpx.Client, postmark: PostmarkClient, pm: httpx.Client
) -> None:
    layout = pm.post("/templates", json={
        "Name": "Frame", "Alias": "frame", "TemplateType": "Layout",
        "HtmlBody": "<main>{{{ @content }}}</main><footer>{{company}}</footer>",
        "TextBody": "{{{ @content }}}\n-- {{company}}",
    }).json()  # fmt: skip
    assert layout["TemplateType"] == "Layout" and layout["Active"] is True
    created = postmark.templates.create(
        Name="Welcome",
        Alias="welcome",
        Subject="Welcome, {{name}}",
        HtmlBody="<p>Hello {{name}} &amp; {{{raw}}}</p>",
        TextBody="Hello {{name}}",
    )
    assert created.Alias == "welcome" and created.TemplateId == 2
    pm.put("/templates/welcome", json={"LayoutTemplate": "frame"}).raise_for_status()
    fetched = postmark.templates.get(created.TemplateId)
    assert fetched.LayoutTemplate == "frame" and fetched.Subject == "Welcome, {{name}}"
    assert [t.Name for t in postmark.templates.all()] == ["Frame", "Welcome"]
    listed_layouts = pm.get("/templates", params={"TemplateType": "Layout", "count": 10}).json()
    assert listed_layouts["TotalCount"] == 1

    check = postmark.templates.validate(
        Subject="Hi {{name}}", HtmlBody="<b>{{name}}</b>", TestRenderModel={"name": "Bo"}
    )
    assert check["AllContentIsValid"] is True
    assert check["HtmlBody"]["RenderedContent"] == "<b>Bo</b>"
    assert check["SuggestedTemplateModel"] == {"name": "name_Value"}
    broken = pm.post("/templates/validate", json={"HtmlBody": "{{/if}}"}).json()
    assert broken["AllContentIsValid"] is False and broken["HtmlBody"]["ValidationErrors"]

    sent = postmark.emails.send_with_template(
        TemplateAlias="welcome",
        TemplateModel={"name": "<Ann>", "raw": "<i>raw</i>", "company": "Shop"},
        From="shop@example.com",
        To="ann@example.com",
        Tag="welcome",
    )
    assert sent["ErrorCode"] == 0
    stored = by_postmark_id(running, sent["MessageID"])
    assert stored.subject == "Welcome, <Ann>"
    assert stored.metadata["postmark"]["template"] == {"TemplateAlias": "welcome"}
    parsed = raw_message(api, stored.id)
    html = parsed.get_body(("html",)).get_content()
    assert "<main><p>Hello &lt;Ann&gt; &amp; <i>raw</i></p></main><footer>Shop</footer>" in html
    assert parsed.get_body(("plain",)).get_content().strip() == "Hello <Ann>\n-- Shop"

    batch = postmark.emails.send_template_batch(
        {"TemplateId": created.TemplateId, "TemplateModel": {"name": "Bo"},
         "From": "shop@example.com", "To": "bo@example.com"},
        {"TemplateAlias": "missing", "TemplateModel": {}, "From": "shop@example.com",
         "To": "cy@example.com"},
    )  # fmt: skip
    assert [r["ErrorCode"] for r in batch] == [0, 1101]
    assert sorted(m["Subject"] for m in listed(api)) == ["Welcome, <Ann>", "Welcome, Bo"]

    in_use = pm.delete("/templates/frame").json()
    assert in_use["ErrorCode"] == 1130
    assert postmark.templates.delete(created.TemplateId) == (
        f"Template {created.TemplateId} removed."
    )
    assert pm.delete("/templates/frame").json()["ErrorCode"] == 0
