"""Info, web UI configuration, chaos, and the ``/view`` renderings."""

from __future__ import annotations

import http.client

import httpx

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import PNG, error_of, send


def test_info(api: httpx.Client) -> None:
    send(api, Tags=["x"])
    info = api.get("/api/v1/info").json()
    assert list(info) == [
        "Version", "LatestVersion", "Database", "DatabaseSize", "Messages", "Unread", "Tags",
        "RuntimeStats",
    ]  # fmt: skip
    assert info["LatestVersion"] == "disabled"
    assert (info["Messages"], info["Unread"], info["Tags"]) == (1, 1, {"x": 1})
    assert info["DatabaseSize"] > 0 and info["RuntimeStats"]["Memory"] > 0
    assert list(info["RuntimeStats"]) == [
        "Uptime", "Memory", "MessagesDeleted", "SMTPAccepted", "SMTPAcceptedSize",
        "SMTPRejected", "SMTPIgnored",
    ]  # fmt: skip


def test_webui_and_chaos(api: httpx.Client) -> None:
    webui = api.get("/api/v1/webui").json()
    assert webui["ChaosEnabled"] is False and webui["MessageRelay"]["Enabled"] is False
    assert "RecipientAllowlist" in webui["MessageRelay"] and webui["SpamAssassin"] is False
    assert error_of(api.get("/api/v1/chaos"), 400) == "Chaos is not enabled"
    assert error_of(api.put("/api/v1/chaos", json={}), 400) == "Chaos is not enabled"


def test_view_html_is_sandboxed_and_rewrites_cids(api: httpx.Client) -> None:
    html = '<p>Hi <img src="cid:pic"> <a href="https://example.com">x</a></p>'
    attachment = {"Content": __import__("base64").b64encode(PNG).decode(), "Filename": "p.png",
                  "ContentID": "pic"}  # fmt: skip
    mid = send(api, HTML=html, Attachments=[attachment])
    view = api.get(f"/view/{mid}.html")
    assert view.status_code == 200 and view.headers["content-type"] == "text/html; charset=utf-8"
    policy = view.headers["content-security-policy"]
    assert "sandbox" in policy and "allow-scripts" not in policy
    assert "allow-same-origin" not in policy
    part_id = api.get(f"/api/v1/message/{mid}").json()["Inline"][0]["PartID"]
    assert part_id == "2"  # related(0) -> alternative(1.0), inline 2
    assert f'src="/api/v1/message/{mid}/part/2"' in view.text
    assert api.get(f"/api/v1/message/{mid}/part/2").content == PNG
    embedded = api.get(f"/view/{mid}.html", params={"embed": "1"}).text
    assert 'target="_blank" rel="noreferrer noopener"' in embedded
    assert embedded.startswith("<!DOCTYPE html>")


def test_view_marks_read_and_text(api: httpx.Client) -> None:
    mid = send(api, "plain only")
    assert error_of(api.get(f"/view/{mid}.html"), 404) == (
        "This message does not contain a HTML part"
    )
    assert api.get("/api/v1/messages").json()["unread"] == 1
    text = api.get(f"/view/{mid}.txt")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.text.strip() == "Body of plain only"
    assert api.get("/api/v1/messages").json()["unread"] == 0
    assert api.get("/view/latest.txt").text == text.text
    assert error_of(api.get("/view/nope.txt"), 404) == "Message not found"


def test_double_slash_view_redirects(running: RunningSandbox, api: httpx.Client) -> None:
    send(api)
    conn = http.client.HTTPConnection(running.http_host, running.http_port, timeout=10)
    conn.request("GET", "//view/latest.txt?x=1")
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("location") == "/view/latest.txt?x=1"
    conn.close()
