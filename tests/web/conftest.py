"""Browser fixtures: one Debian chromium per test module (Playwright), a page per test, a beacon.

A missing ``/usr/bin/chromium`` FAILS these tests (never skips): the UI is only proven in a
real browser. ``playwright install`` is never used.
"""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from mailsandbox.runner import RunningSandbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (scripts/install-chromium.sh)"
        )
    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser, running: RunningSandbox) -> Iterator[Page]:
    """A fresh browser context on the running sandbox; closed before the sandbox stops."""
    context = browser.new_context(base_url=running.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


class Beacon:
    """A tiny local HTTP server that counts every request (what hostile mail tries to reach)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def beacon() -> Iterator[Beacon]:
    server = Beacon()
    yield server
    server.close()


Sender = Callable[..., None]


@pytest.fixture
def send(running: RunningSandbox) -> Sender:
    """Send an ``EmailMessage`` (or build a simple one) over real SMTP."""

    def send_message(
        msg: EmailMessage | None = None, *, to_addrs: list[str] | None = None, **fields: str
    ) -> None:
        if msg is None:
            msg = EmailMessage()
            msg["From"] = fields.get("sender", "Ann <ann@example.com>")
            msg["To"] = fields.get("to", "bob@example.com")
            msg["Subject"] = fields.get("subject", "Hello")
            for name, value in fields.items():
                if name.startswith("x_"):
                    msg[name.replace("_", "-").title()] = value
            msg.set_content(fields.get("body", "Hi Bob."))
        with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
            client.send_message(msg, to_addrs=to_addrs)

    return send_message
