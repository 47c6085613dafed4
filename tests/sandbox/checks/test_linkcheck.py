"""Link check (Mailpit's link-check): collection, statuses, redirects, the address policy."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from mailsandbox.checks import linkcheck
from mailsandbox.checks.netguard import Policy, is_internal
from mailsandbox.runner import RunningSandbox
from tests.check_servers import LinkServer
from tests.sandbox.checks.conftest import deliver
from tests.sandbox.serve_process import free_port


def message_with_links(html: str, text: str = "See the plain part.") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "shop@example.com", "bob@example.com", "links"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def test_collects_like_mailpit() -> None:
    html = (
        '<a href="https://a.example/1">a</a><a href="mailto:x@y">m</a><a href="/rel">r</a>'
        '<img src="https://a.example/img.png"><img src="cid:logo">'
        '<link rel="stylesheet" href="https://a.example/s.css"><a href="https://a.example/1">dup</a>'
    )
    text = "Go to https://b.example/t then <https://c.example/angle> (https://d.example/p)"
    assert linkcheck.collect(html, text) == [
        "https://a.example/1",
        "https://a.example/s.css",  # stylesheets come after every <a>, images after them
        "https://a.example/img.png",
        "https://b.example/t",
        "https://d.example/p",
        "https://c.example/angle",  # bracketed URLs come last
    ]
    many = "".join(f'<a href="https://e.example/{i}">{i}</a>' for i in range(150))
    assert len(linkcheck.collect(many, "")) == 100


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1",
        "0.0.0.0", "fc00::1", "fe80::1", "fec0::1", "2001:db8::1", "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe", "2002:a00:1::", "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    ],
)  # fmt: skip
def test_internal_addresses(address: str) -> None:
    """Classified only: no test ever sends traffic to a private range."""
    assert is_internal(ipaddress.ip_address(address))
    assert Policy().refusal(ipaddress.ip_address(address), 80) == (
        "Blocked private/reserved address"
    )
    assert Policy(allow_internal=True).refusal(ipaddress.ip_address(address), 80) is None


def test_public_and_loopback_addresses() -> None:
    policy = Policy(own_ports=frozenset({8025}))
    assert policy.refusal(ipaddress.ip_address("93.184.216.34"), 80) is None
    assert policy.refusal(ipaddress.ip_address("127.0.0.1"), 3000) is None
    assert policy.refusal(ipaddress.ip_address("::1"), 3000) is None
    assert policy.refusal(ipaddress.ip_address("127.0.0.1"), 8025) == "Blocked: this sandbox"
    assert Policy(True, frozenset({8025})).refusal(ipaddress.ip_address("::1"), 8025) == (
        "Blocked: this sandbox"
    )


def test_statuses_of_a_local_site(
    running: RunningSandbox, api: httpx.Client, link_server: LinkServer
) -> None:
    site = link_server.url
    html = (
        "".join(
            f'<a href="{site}{path}">{path}</a>'
            for path in ("/ok", "/missing", "/broken", "/moved")
        )
        + f'<img src="{site}/ok?img"><a href="{running.url}/api/v1/info">own</a>'
    )
    message_id = deliver(running, message_with_links(html, f"Also {site}/loop here"))
    assert api.get("/api/v1/messages").json()["messages"][0]["Read"] is False

    result = api.get(f"/api/v1/message/{message_id}/link-check", params={"follow": "false"})
    assert result.status_code == 200
    assert result.json() == {
        "Errors": 3,
        "Links": [
            {"URL": f"{site}/ok", "StatusCode": 200, "Status": "OK"},
            {"URL": f"{site}/missing", "StatusCode": 404, "Status": "Not Found"},
            {"URL": f"{site}/broken", "StatusCode": 500, "Status": "Internal Server Error"},
            {"URL": f"{site}/moved", "StatusCode": 301, "Status": "Moved Permanently"},
            {"URL": f"{running.url}/api/v1/info", "StatusCode": 451,
             "Status": "Blocked: this sandbox"},
            {"URL": f"{site}/ok?img", "StatusCode": 200, "Status": "OK"},
            {"URL": f"{site}/loop", "StatusCode": 302, "Status": "Found"},
        ],
    }  # fmt: skip
    assert {method for method, _ in link_server.requests} == {"HEAD"}
    # like Mailpit, a link check counts as opening the message
    assert api.get("/api/v1/messages").json()["messages"][0]["Read"] is True

    followed = api.get(f"/api/v1/message/{message_id}/link-check?follow=true").json()
    by_url = {link["URL"]: link for link in followed["Links"]}
    assert by_url[f"{site}/moved"]["StatusCode"] == 200
    assert by_url[f"{site}/loop"] == {
        "URL": f"{site}/loop", "StatusCode": 0, "Status": "too many redirects",
    }  # fmt: skip
    assert link_server.requests.count(("HEAD", "/loop")) == 1 + 3  # first check + 3 hops


def test_failures_and_refusals(running: RunningSandbox, api: httpx.Client) -> None:
    closed = f"http://127.0.0.1:{free_port()}/x"
    html = (
        f'<a href="{closed}">closed</a><a href="http://0.0.0.0:9/">any</a>'
        '<a href="https://nowhere.invalid/">dns</a>'
    )
    message_id = deliver(running, message_with_links(html))
    links = api.get(f"/api/v1/message/{message_id}/link-check").json()["Links"]
    assert links == [
        {"URL": closed, "StatusCode": 0, "Status": "connection refused"},
        {"URL": "http://0.0.0.0:9/", "StatusCode": 451,
         "Status": "Blocked private/reserved address"},
        {"URL": "https://nowhere.invalid/", "StatusCode": 0, "Status": "no such host"},
    ]  # fmt: skip


def test_cross_site_requests_are_refused(
    running: RunningSandbox, api: httpx.Client, link_server: LinkServer
) -> None:
    """A page on another site cannot make the sandbox send requests (e.g. with an <img>)."""
    message_id = deliver(running, message_with_links(f'<a href="{link_server.url}/ok">x</a>'))
    url = f"/api/v1/message/{message_id}/link-check"
    for site in ("cross-site", "same-site"):
        response = api.get(url, headers={"Sec-Fetch-Site": site})
        assert response.status_code == 403
    foreign = api.get(url, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    assert link_server.requests == []
    ui = f"/ui/message/{message_id}/checks/links"  # the UI's own fragment: same rule
    assert api.get(ui, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert api.get(ui).status_code == 403  # no proof it comes from our page
    assert link_server.requests == []
    same = api.get(url, headers={"Sec-Fetch-Site": "same-origin", "Origin": running.url})
    assert same.status_code == 200 and link_server.requests == [("HEAD", "/ok")]
    assert api.get(ui, headers={"HX-Request": "true"}).status_code == 200


def test_no_links_and_unknown_message(running: RunningSandbox, api: httpx.Client) -> None:
    message_id = deliver(running, b"From: a@example.com\r\nSubject: s\r\n\r\nno links\r\n")
    assert api.get(f"/api/v1/message/{message_id}/link-check").json() == {
        "Errors": 0, "Links": [],
    }  # fmt: skip
    assert api.get("/api/v1/message/nope/link-check").status_code == 404


class HangingServer:
    """Accepts connections and never answers until closed (a stuck app)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        release = self.release

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                release.wait(30)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()


def test_per_request_timeout(hanging: HangingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linkcheck, "REQUEST_TIMEOUT", 0.3)
    result = asyncio.run(linkcheck.check([f"{hanging.url}/stuck"], follow=False, policy=Policy()))
    assert result == {
        "Errors": 1,
        "Links": [
            {"URL": f"{hanging.url}/stuck", "StatusCode": 0, "Status": "timeout after 0.3 s"}
        ],
    }


def test_total_time_limit(
    hanging: HangingServer, link_server: LinkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linkcheck, "TOTAL_TIMEOUT", 0.5)
    links = [f"{link_server.url}/ok", f"{hanging.url}/stuck"]
    result = asyncio.run(linkcheck.check(links, follow=False, policy=Policy()))
    assert result["Links"] == [
        {"URL": links[0], "StatusCode": 200, "Status": "OK"},
        {"URL": links[1], "StatusCode": 0, "Status": "not checked: over the 0.5 s limit"},
    ]
