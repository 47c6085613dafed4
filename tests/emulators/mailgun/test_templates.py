"""Stored templates through the SDK, and ``template`` sends rendered with Handlebars."""

from __future__ import annotations

import json

import httpx
from mailgun.client import Client

from tests.emulators.mailgun.conftest import DOMAIN, raw_message, stored

WELCOME = "<h1>Hello {{name}}</h1>{{#if vip}}<p>VIP</p>{{/if}}"


def _send(mg: Client, **extra: str) -> httpx.Response:
    data = {"from": "a@mg.example.com", "to": "b@example.com", "subject": "Welcome", **extra}
    return mg.messages.create(domain=DOMAIN, data=data)


def test_template_lifecycle_and_versions(mg: Client) -> None:
    created = mg.templates.create(
        domain=DOMAIN,
        data={"name": "Welcome", "description": "greeting", "template": WELCOME, "tag": "v1"},
    )
    assert created.status_code == 200
    body = created.json()
    assert body["message"] == "template has been stored"
    assert body["template"]["name"] == "welcome"
    assert body["template"]["version"]["tag"] == "v1"
    assert body["template"]["version"]["active"] is True

    again = mg.templates.create(domain=DOMAIN, data={"name": "welcome", "template": "x"})
    assert again.status_code == 409

    got = mg.templates.get(domain=DOMAIN, template_name="welcome", filters={"active": "yes"})
    assert got.json()["template"]["version"]["template"] == WELCOME

    added = mg.templates.create(
        domain=DOMAIN,
        template_name="welcome",
        versions=True,
        data={"tag": "v2", "template": "<p>Hi {{name}} (v2)</p>", "active": "yes"},
    )
    assert added.json()["message"] == "new version of the template has been stored"
    versions = mg.templates.get(domain=DOMAIN, template_name="welcome", versions=True).json()
    assert [(v["tag"], v["active"]) for v in versions["template"]["versions"]] == [
        ("v1", False),
        ("v2", True),
    ]
    one = mg.templates.get(domain=DOMAIN, template_name="welcome", versions=True, tag="v1")
    assert one.json()["template"]["version"]["template"] == WELCOME

    listing = mg.templates.get(domain=DOMAIN).json()
    assert [t["name"] for t in listing["items"]] == ["welcome"]
    assert listing["paging"]["next"].startswith("http://")

    deleted = mg.templates.delete(domain=DOMAIN, template_name="welcome", versions=True, tag="v1")
    assert deleted.json()["message"] == "version has been deleted"
    assert mg.templates.delete(domain=DOMAIN, template_name="welcome").status_code == 200
    missing = mg.templates.get(domain=DOMAIN, template_name="welcome")
    assert (missing.status_code, missing.json()) == (404, {"message": "template not found"})


def test_template_send_renders_active_or_chosen_version(mg: Client, api: httpx.Client) -> None:
    mg.templates.create(domain=DOMAIN, data={"name": "welcome", "template": WELCOME, "tag": "v1"})
    mg.templates.create(
        domain=DOMAIN,
        template_name="welcome",
        versions=True,
        data={"tag": "v2", "template": "<p>v2 for {{name}}</p>"},
    )
    variables = json.dumps({"name": "Ann <&>", "vip": True})
    assert _send(mg, template="welcome", **{"t:variables": variables}).status_code == 200
    assert (
        _send(mg, template="welcome", **{"t:version": "v2", "t:text": "yes", "v:name": "Bob"})
    ).status_code == 200
    first, second = stored(api)
    html = raw_message(api, first["ID"]).get_body(("html",))
    assert html is not None
    assert html.get_content().strip() == "<h1>Hello Ann &lt;&amp;&gt;</h1><p>VIP</p>"
    msg = raw_message(api, second["ID"])
    html2, text2 = msg.get_body(("html",)), msg.get_body(("plain",))
    assert html2 is not None and html2.get_content().strip() == "<p>v2 for Bob</p>"
    assert text2 is not None and text2.get_content().strip() == "v2 for Bob"


def test_template_with_batch_substitution(mg: Client, api: httpx.Client) -> None:
    mg.templates.create(
        domain=DOMAIN, data={"name": "code", "template": "<p>{{greeting}} %recipient.code%</p>"}
    )
    answer = mg.messages.create(
        domain=DOMAIN,
        data={
            "from": "a@mg.example.com",
            "to": ["x@example.com", "y@example.com"],
            "subject": "Code",
            "template": "code",
            "t:variables": json.dumps({"greeting": "Your code:"}),
            "recipient-variables": json.dumps(
                {"x@example.com": {"code": "X1"}, "y@example.com": {"code": "Y2"}}
            ),
        },
    )
    assert answer.status_code == 200
    bodies = {}
    for summary in stored(api):
        html = raw_message(api, summary["ID"]).get_body(("html",))
        assert html is not None
        bodies[summary["To"][0]["Address"]] = html.get_content().strip()
    assert bodies == {
        "x@example.com": "<p>Your code: X1</p>",
        "y@example.com": "<p>Your code: Y2</p>",
    }
