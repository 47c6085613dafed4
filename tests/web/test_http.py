"""The UI's HTTP contract without a browser: cross-origin refusal, headers, 404s, rewriting."""

from __future__ import annotations

import importlib
import pkgutil
import re
from email.message import EmailMessage

import httpx
import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from mailsandbox import web
from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from mailsandbox.web import sanitize
from tests.web.conftest import Sender
from tests.web.mail import rich_message


def latest_id(api: httpx.Client) -> str:
    page = api.get("/").text
    found = re.search(r'data-id="([^"]+)"', page)
    assert found
    return found.group(1)


def test_state_changes_refuse_cross_origin(api: httpx.Client, send: Sender) -> None:
    send(subject="guarded")
    message_id = latest_id(api)
    url = f"/ui/message/{message_id}/delete"
    assert api.post(url, headers={"Origin": "http://evil.example"}).status_code == 403
    assert api.post(url, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert api.post(url).status_code == 403  # no Origin and no proof it came from our page
    assert api.post(url, headers={"Origin": "null"}).status_code == 403  # e.g. a sandboxed frame
    null_cross = {"Origin": "null", "Sec-Fetch-Site": "cross-site"}
    assert api.post(url, headers=null_cross).status_code == 403
    assert api.post("/ui/messages/delete-all").status_code == 403
    assert message_id in api.get("/").text
    same = api.post(url, headers={"Origin": str(api.base_url).rstrip("/"), "HX-Request": "true"})
    assert same.status_code == 200
    assert message_id not in api.get("/").text


def test_parts_and_raw_are_locked_down(
    api: httpx.Client, send: Sender, running: RunningSandbox
) -> None:
    msg = rich_message()
    msg.add_attachment(
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        maintype="image",
        subtype="svg+xml",
        filename="evil.svg",
    )
    send(msg)
    message_id = latest_id(api)
    page = api.get(f"/view/{message_id}").text
    parts = dict(re.findall(r'part/([\d.]+)\?dl=1" download aria-label="Download ([^"]+)"', page))
    by_name = {name: part for part, name in parts.items()}

    pdf = api.get(f"/ui/message/{message_id}/part/{by_name['invoice.pdf']}?dl=1")
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in pdf.headers["content-security-policy"]

    svg = api.get(f"/ui/message/{message_id}/part/{by_name['evil.svg']}")  # not even inline
    assert svg.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in svg.headers["content-security-policy"]

    png = api.get(f"/ui/message/{message_id}/part/{by_name['chart.png']}")
    assert png.headers["content-disposition"].startswith("inline;")
    assert png.headers["content-type"] == "image/png"

    raw = api.get(f"/ui/message/{message_id}/raw?dl=1")
    assert raw.headers["content-disposition"] == f'attachment; filename="{message_id}.eml"'
    stored = running.sandbox.db.read_sync(lambda conn: messages.get_raw(conn, message_id))
    assert raw.content == stored
    assert b"\r\nSubject: Your invoice #1042\r\n" in raw.content


def test_preview_policy(api: httpx.Client, send: Sender) -> None:
    send(rich_message())
    message_id = latest_id(api)
    strict = api.get(f"/ui/message/{message_id}/preview").headers["content-security-policy"]
    assert "script-src 'none'" in strict and strict.startswith("default-src 'none';")
    sandbox = next(d for d in strict.split("; ") if d.startswith("sandbox"))
    # Same origin (the page measures the mail's height) but never scripts, forms or top nav.
    assert sandbox.split()[1:] == [
        "allow-same-origin",
        "allow-popups",
        "allow-popups-to-escape-sandbox",
    ]
    assert "img-src *" not in strict
    loose = api.get(f"/ui/message/{message_id}/preview?remote=1")
    assert "img-src * " in loose.headers["content-security-policy"]
    assert "script-src 'none'" in loose.headers["content-security-policy"]
    assert f"/ui/message/{message_id}/part/" in loose.text  # cid: resolved


@pytest.mark.parametrize(
    "path",
    ["/view/nope", "/ui/message/nope/preview", "/ui/message/nope/part/1", "/ui/message/nope/raw"],
)
def test_unknown_message_is_404(api: httpx.Client, path: str) -> None:
    assert api.get(path).status_code == 404


def test_bad_search_shows_an_error_not_a_500(api: httpx.Client, send: Sender) -> None:
    send(subject="x")
    response = api.get("/ui/list", params={"q": 'subject:"unterminated'})
    assert response.status_code == 200
    assert api.get("/", params={"start": "-5", "q": "has:attachment"}).status_code == 200


def test_text_only_message_has_no_preview(
    api: httpx.Client, running: RunningSandbox, send: Sender
) -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["To"] = "b@example.com"
    msg["Subject"] = "plain"
    msg.set_content("just text")
    send(msg)
    message_id = latest_id(api)
    assert api.get(f"/ui/message/{message_id}/preview").status_code == 404
    assert "This message has no HTML part." in api.get(f"/view/{message_id}").text


def test_rewrite_html_neutralises_urls_and_refresh() -> None:
    markup = (
        '<html><head><meta http-equiv="Refresh" content="0;url=http://x"></head><body>'
        '<a href="jav&#x61;script:alert(1)">a</a><a href=" JAVASCRIPT:alert(2)">b</a>'
        "<form action='javascript:alert(3)'></form><img src=cid:logo>"
        '<div style="background: url(\'cid:logo\')"></div><a href="https://ok.example/">ok</a>'
    )
    out = sanitize.rewrite_html(markup, {"logo": "/ui/message/M/part/2"})
    assert "javascript" not in out.lower() and "&#x61;script" not in out
    assert "http-equiv=" not in out.lower().replace("data-blocked-http-equiv=", "")
    assert '<img src="/ui/message/M/part/2">' in out
    assert "url(/ui/message/M/part/2)" in out
    assert 'href="https://ok.example/"' in out
    assert out.startswith('<html><head><base target="_blank">')
    pinged = sanitize.rewrite_html('<a href="#x" ping="/ui/messages/delete-all">x</a>', {})
    assert " ping=" not in pinged and 'data-blocked-ping="/ui/messages/delete-all"' in pinged
    assert sanitize.has_remote_content('<img src="https://t.example/p.gif">')
    assert not sanitize.has_remote_content('<a href="https://example.com">link</a>')


def ui_routes() -> list[tuple[str, str]]:
    """(path, method) of every route the web package's modules declare."""
    found = set()
    for info in pkgutil.iter_modules(web.__path__):
        module = importlib.import_module(f"mailsandbox.web.{info.name}")
        for router in vars(module).values():
            if isinstance(router, APIRouter):
                for route in router.routes:
                    if isinstance(route, APIRoute):
                        found |= {(route.path, method) for method in route.methods}
    return sorted(found)


def test_every_ui_state_change_is_a_guarded_post(api: httpx.Client) -> None:
    """Every UI route that is not a GET is a POST, and each refuses a foreign origin."""
    routes = ui_routes()
    assert {method for _, method in routes} <= {"GET", "HEAD", "POST"}
    posts = [path for path, method in routes if method == "POST"]
    assert {"/ui/messages/bulk", "/ui/tags/rename", "/ui/rules/{rule_id}/move"} <= set(posts)
    for path in posts:
        url = re.sub(r"\{[^}]+\}", "x", path)
        refused = api.post(url, headers={"Origin": "http://evil.example"})
        assert refused.status_code == 403, f"{path}: {refused.status_code}"


def test_body_downloads(api: httpx.Client, send: Sender) -> None:
    send(rich_message())
    message_id = latest_id(api)
    html = api.get(f"/ui/message/{message_id}/download/html")
    assert html.headers["content-disposition"] == f'attachment; filename="{message_id}.html"'
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert "sandbox" in html.headers["content-security-policy"]
    assert "<h1 id='h'>HTML-MARKER</h1>" in html.text and "cid:logo@shop" in html.text  # as sent
    text = api.get(f"/ui/message/{message_id}/download/text")
    assert text.headers["content-disposition"] == f'attachment; filename="{message_id}.txt"'
    assert "PLAIN-MARKER" in text.text
    assert api.get(f"/ui/message/{message_id}/download/pdf").status_code == 404
    assert api.get("/ui/message/nope/download/html").status_code == 404
