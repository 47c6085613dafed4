"""Regenerate the check-tab screenshots in this folder (check-*.png).

Starts a throwaway sandbox with a real spamd (Debian's ``spamd``, ``--local``) and a local
site for the link check, sends the newsletter of ``capture.py`` with a few deliverability
problems, and photographs the HTML check, link check, spam, lint and HTML source tabs (light
and dark) with Debian chromium through Playwright.

    .venv/bin/python docs/screenshots/capture_checks.py
"""

from __future__ import annotations

import smtplib
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from docs.screenshots.capture import ARGS, NEWSLETTER
from mailsandbox.config import Settings
from mailsandbox.runner import start_in_thread
from tests.check_servers import LinkServer, running_spamd

HERE = Path(__file__).parent
TABS = {
    "html-check": "#html-check .findings",
    "link-check": ".link-results",
    "spam": "#spam-check .spam-rules",
    "lint": "#lint-check .findings",
    "source": "#html-source",
}


def message(site: str) -> EmailMessage:
    html = NEWSLETTER.replace("https://acme.example/start", f"{site}/ok").replace(
        "</ol>",
        f'</ol><p><a href="{site}/missing">Click here</a> · <a href="{site}/broken">Status</a></p>',
    )
    msg = EmailMessage()
    msg["From"] = "Acme Cloud <hello@acme.example>"
    msg["To"] = "Bob <bob@example.com>"
    msg["Subject"] = "Welcome to Acme Cloud"
    msg["List-Unsubscribe"] = "<mailto:unsubscribe@acme.example>"
    msg.set_content("Welcome aboard, Bob! Get started: " + f"{site}/ok")
    msg.add_alternative(
        html.replace("<style>", "<style>@media (max-width:600px){td{padding:8px}}"), subtype="html"
    )
    return msg


def show(page: Page, tab: str) -> None:
    page.click(f"#tab-{tab}")
    if tab == "link-check":
        page.click("#run-link-check")
    page.locator(TABS[tab]).wait_for()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_spamd(Path(tmp)) as spamd:
        site = LinkServer()
        settings = Settings.from_env(
            environ={}, smtp="127.0.0.1:0", http="127.0.0.1:0", db=str(Path(tmp) / "s.db"),
            spamassassin=spamd,
        )  # fmt: skip
        running = start_in_thread(settings)
        try:
            with smtplib.SMTP(running.smtp_host, running.smtp_port) as client:
                client.send_message(message(site.url))
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=ARGS
                )
                for scheme, width in (("light", 1280), ("dark", 390)):
                    context = browser.new_context(
                        base_url=running.url,
                        viewport={"width": width, "height": 900},
                        color_scheme=scheme,
                    )
                    page = context.new_page()
                    page.goto("/view/latest")
                    # The sticky header would cover the top of the card in its element shots.
                    page.locator(".topbar").evaluate("bar => { bar.style.position = 'static'; }")
                    for tab in TABS:
                        show(page, tab)
                        card = page.locator(".tabs-card")
                        card.screenshot(path=HERE / f"check-{tab}-{scheme}.png")
                    context.close()
                browser.close()
        finally:
            running.stop()
            site.close()


if __name__ == "__main__":
    main()
