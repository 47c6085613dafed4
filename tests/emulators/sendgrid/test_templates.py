"""Templates API CRUD and rendering: dynamic (Handlebars) and legacy (substitutions, sections)."""

from __future__ import annotations

import re

import httpx
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

from mailsandbox.runner import RunningSandbox
from tests.emulators.sendgrid.helpers import listed, mail_body, metadata, raw_message

HTML = (
    "<p>Hello {{name}}!</p>{{#if vip}}<p>VIP</p>{{/if}}"
    "<ul>{{#each items}}<li>{{this.title}}</li>{{/each}}</ul>{{{raw}}}"
)


def test_template_crud(sg: SendGridAPIClient) -> None:
    created = sg.client.templates.post(request_body={"name": "Welcome", "generation": "dynamic"})
    assert created.status_code == 201
    template = created.to_dict
    assert re.fullmatch(r"d-[0-9a-f]{32}", template["id"])
    assert template["versions"] == []
    client = sg.client.templates._(template["id"])
    version = client.versions.post(
        request_body={"name": "v1", "subject": "Hi {{name}}", "html_content": "<p>x</p>"}
    ).to_dict
    assert version["active"] == 1 and version["template_id"] == template["id"]
    second = client.versions.post(
        request_body={"name": "v2", "subject": "S2", "html_content": "<p>y</p>", "active": 1}
    ).to_dict
    fetched = client.get().to_dict
    assert [(v["name"], v["active"]) for v in fetched["versions"]] == [("v1", 0), ("v2", 1)]
    activated = client.versions._(version["id"]).activate.post().to_dict
    assert activated["active"] == 1
    assert client.versions._(second["id"]).get().to_dict["active"] == 0
    patched = client.versions._(second["id"]).patch(request_body={"subject": "S3"}).to_dict
    assert patched["subject"] == "S3"
    assert client.patch(request_body={"name": "Renamed"}).to_dict["name"] == "Renamed"
    listing = sg.client.templates.get(query_params={"generations": "dynamic", "page_size": 10})
    assert [t["name"] for t in listing.to_dict["result"]] == ["Renamed"]
    legacy_only = sg.client.templates.get(query_params={"page_size": 10}).to_dict["result"]
    assert legacy_only == []
    assert client.versions._(second["id"]).delete().status_code == 204
    assert client.delete().status_code == 204
    try:
        client.get()
        raise AssertionError("deleted template still found")
    except Exception as exc:  # python_http_client.exceptions.NotFoundError
        assert getattr(exc, "status_code", None) == 404


def test_dynamic_template_renders_handlebars(
    sg: SendGridAPIClient, http: httpx.Client, running: RunningSandbox
) -> None:
    template = sg.client.templates.post(
        request_body={"name": "Order", "generation": "dynamic"}
    ).to_dict
    sg.client.templates._(template["id"]).versions.post(
        request_body={
            "name": "v1",
            "subject": "Order {{id}} for {{{name}}}",  # {{x}} escapes here too, as SendGrid does
            "html_content": HTML,
            "plain_content": "Hello {{name}}",
        }
    )
    mail = Mail(from_email="shop@example.com", to_emails="bob@example.com")
    mail.template_id = template["id"]
    mail.dynamic_template_data = {
        "id": "A&B",
        "name": "<Bob>",
        "vip": True,
        "items": [{"title": "Tea"}, {"title": "Cake"}],
        "raw": "<hr>",
    }
    assert sg.send(mail).status_code == 202
    [stored] = listed(http)
    assert stored["Subject"] == "Order A&amp;B for <Bob>"
    msg = raw_message(http, stored["ID"])
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<p>Hello &lt;Bob&gt;!</p><p>VIP</p><ul><li>Tea</li><li>Cake</li></ul><hr>" in html
    assert msg.get_body(("plain",)).get_content().strip() == "Hello &lt;Bob&gt;"  # type: ignore[union-attr]
    assert metadata(running, stored["ID"])["template_id"] == template["id"]


def test_dynamic_template_without_plain_generates_it(
    sg: SendGridAPIClient, http: httpx.Client
) -> None:
    template = sg.client.templates.post(request_body={"name": "T", "generation": "dynamic"}).to_dict
    sg.client.templates._(template["id"]).versions.post(
        request_body={"name": "v", "subject": "S", "html_content": "<p>Only {{what}}</p>"}
    )
    body = mail_body(template_id=template["id"], content=None, subject=None)
    body["personalizations"][0]["dynamic_template_data"] = {"what": "html"}
    sg.client.mail.send.post(request_body={k: v for k, v in body.items() if v is not None})
    msg = raw_message(http, listed(http)[0]["ID"])
    assert msg.get_body(("plain",)).get_content().strip() == "Only html"  # type: ignore[union-attr]


def test_legacy_template_substitutions_and_sections(
    sg: SendGridAPIClient, http: httpx.Client
) -> None:
    template = sg.client.templates.post(request_body={"name": "L", "generation": "legacy"}).to_dict
    assert not template["id"].startswith("d-")
    sg.client.templates._(template["id"]).versions.post(
        request_body={
            "name": "v",
            "subject": "[News] <%subject%>",
            "html_content": "<div>HEAD</div><%body%><div>FOOT</div>",
            "plain_content": "HEAD <%body%> FOOT",
        }
    )
    body = mail_body(
        template_id=template["id"],
        subject="Hi -first-",
        sections={"-greeting-": "Dear -first-"},
        content=[
            {"type": "text/plain", "value": "-greeting-, welcome"},
            {"type": "text/html", "value": "<p>-greeting-</p>"},
        ],
        personalizations=[
            {"to": [{"email": "a@example.com"}], "substitutions": {"-first-": "Ann"}},
            {"to": [{"email": "b@example.com"}], "substitutions": {"-first-": "Ben"}},
        ],
    )
    assert sg.client.mail.send.post(request_body=body).status_code == 202
    by_to = {m["To"][0]["Address"]: m for m in listed(http)}
    assert by_to["a@example.com"]["Subject"] == "[News] Hi Ann"
    msg = raw_message(http, by_to["b@example.com"]["ID"])
    assert msg.get_body(("plain",)).get_content().strip() == "HEAD Dear Ben, welcome FOOT"  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<div>HEAD</div><p>Dear Ben</p><div>FOOT</div>" in html


def test_template_api_errors(http: httpx.Client) -> None:
    missing = http.post("/v3/templates", json={"generation": "dynamic"})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "name"
    assert http.get("/v3/templates/d-nothere").status_code == 404
    bad = http.post("/v3/templates", json={"name": "x", "generation": "fancy"})
    assert bad.json()["errors"][0]["field"] == "generation"
