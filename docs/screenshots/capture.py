"""Regenerate the UI screenshots in this folder: light and dark (inbox, inbox with messages
selected, message, rules, suppressions) and phone width (inbox, message in dark, rules).

Starts a throwaway sandbox, sends a realistic mix of mail through its real doors (SMTP,
the SendGrid and Mailgun APIs), records a couple of delivery events, adds two rules (one
switched off), and photographs the UI with Debian chromium through Playwright. The check
tabs have their own script, ``capture_checks.py``.

    .venv/bin/python docs/screenshots/capture.py
"""

from __future__ import annotations

import smtplib
import tempfile
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from mailsandbox.config import Settings
from mailsandbox.runner import RunningSandbox, start_in_thread

HERE = Path(__file__).parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

NEWSLETTER = "".join(
    [
        '<html><body style="margin:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif">',
        '<table width="100%" cellpadding="0" cellspacing="0"><tr>',
        '<td align="center" style="padding:32px 12px">',
        '<table width="560" cellpadding="0" cellspacing="0"',
        ' style="background:#fff;border-radius:12px;overflow:hidden">',
        '<tr><td style="background:#4f46e5;color:#fff;padding:28px 32px;font-size:22px;',
        'font-weight:bold">Acme Cloud</td></tr>',
        '<tr><td style="padding:32px;color:#1f2937;font-size:15px;line-height:1.6">',
        '<h1 style="font-size:22px;margin:0 0 12px">Welcome aboard, Bob!</h1>',
        "<p>Your workspace <b>acme-prod</b> is ready. Your confirmation code is <b>318204</b>.",
        " Here is what to do next:</p>",
        "<ol><li>Invite your team</li><li>Connect a repository</li>",
        "<li>Deploy your first app</li></ol>",
        '<p style="margin:28px 0"><a href="https://acme.example/start" style="background:#4f46e5;',
        'color:#fff;padding:12px 22px;border-radius:8px;text-decoration:none;font-weight:bold">',
        "Get started</a></p>",
        '<p style="color:#6b7280;font-size:13px">',
        "You received this email because you signed up for Acme Cloud.</p>",
        "</td></tr></table></td></tr></table></body></html>",
    ]
)


class Receiver(BaseHTTPRequestHandler):
    """The app's webhook endpoint: answers 200 to everything, logs nothing."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def shoot(page: Page, path: Path) -> None:
    """A whole-page shot through a viewport as tall as the page (chromium's full-page capture
    leaves the sandboxed preview frame blank); the preview is as tall as the mail, so this
    converges."""
    width = page.viewport_size["width"] if page.viewport_size else 1280
    for _ in range(4):
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(300)
    page.screenshot(path=path)
    page.set_viewport_size({"width": width, "height": 760})


def smtp_send(running: RunningSandbox, msg: EmailMessage, user: str = "") -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port) as client:
        if user:
            client.login(user, "secret")
        client.send_message(msg)


def simple(sender: str, to: str, subject: str, body: str, tags: str = "") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    if tags:
        msg["X-Tags"] = tags
    msg.set_content(body)
    return msg


def populate(running: RunningSandbox, hook_url: str) -> str:
    smtp_send(
        running,
        simple(
            "GitHub <noreply@github.com>",
            "dev@example.com",
            "[acme/api] Build passed on main",
            "All checks have passed.",
        ),
    )
    report = simple(
        "Reports <reports@acme.example>",
        "finance@example.com",
        "Weekly revenue report",
        "Attached is this week's report.",
        "reports",
    )
    report.add_attachment(
        b"%PDF-1.4 demo", maintype="application", subtype="pdf", filename="revenue-week-47.pdf"
    )
    smtp_send(running, report, user="billing-service")
    with httpx.Client(base_url=running.url) as api:
        api.post(
            "/v3/example.com/messages",
            auth=("api", "key-demo"),
            data={
                "from": "Acme Newsletter <news@acme.example>",
                "to": "carol@example.com",
                "subject": "Product update: dark mode is here",
                "text": "Dark mode shipped today.",
                "o:tag": ["newsletter", "product"],
                "v:campaign": "nov-update",
            },
        )
        smtp_send(
            running,
            simple(
                "Support <support@acme.example>",
                "dan+vip@example.com",
                "Re: Ticket #4821 — login issue",
                "We have reset your session; please try again.",
            ),
        )
        smtp_send(
            running,
            simple(
                "Security <security@acme.example>",
                "erin@example.com",
                "Your password was changed",
                "If this wasn't you, contact us right away.",
                "security",
            ),
        )
        api.post(
            "/v3/user/webhooks/event/settings",
            headers={"Authorization": "Bearer SG.demo"},
            json={"enabled": True, "url": hook_url, "processed": True, "open": True},
        )
        welcome = api.post(
            "/v3/mail/send",
            headers={"Authorization": "Bearer SG.demo"},
            json={
                "personalizations": [
                    {
                        "to": [{"email": "bob@example.com", "name": "Bob Example"}],
                        "custom_args": {"user_id": "4711", "plan": "team"},
                    }
                ],
                "from": {"email": "hello@acme.example", "name": "Acme Cloud"},
                "subject": "Welcome to Acme Cloud, Bob!",
                "content": [
                    {"type": "text/plain", "value": "Welcome aboard, Bob!"},
                    {"type": "text/html", "value": NEWSLETTER},
                ],
                "categories": ["welcome", "onboarding"],
                "attachments": [
                    {
                        "content": "SGVsbG8gQm9i",
                        "filename": "getting-started.txt",
                        "type": "text/plain",
                    }
                ],
            },
        )
        assert welcome.status_code == 202, welcome.text
        newest = api.get("/api/v1/messages").json()["messages"][0]["ID"]
        api.put(
            "/api/v1/messages",
            json={
                "IDs": [m["ID"] for m in api.get("/api/v1/messages").json()["messages"][3:5]],
                "Read": True,
            },
        )
        api.post(f"/api/v1/message/{newest}/events", json={"type": "opened"})
        api.post(
            "/api/v1/rules",
            json={"recipient": "*@flaky.example", "outcome": "deferred", "probability": 50},
        )
        blocked = api.post(
            "/api/v1/rules",
            json={"stage": "RCPT", "recipient": "blocked@*", "reply": "550 5.1.1 No such user"},
        ).json()
        api.patch(f"/api/v1/rules/{blocked['id']}", json={"enabled": False})
        sendgrid = {"Authorization": "Bearer SG.demo"}
        for list_name, entries in (
            ("bounces", [("frank@example.com", "550 5.1.1 The email account does not exist")]),
            ("bounces", [("grace@old-domain.example", "550 5.1.2 Host unknown")]),
            ("blocks", [("ivan@example.com", "421 4.7.0 Try again later")]),
            ("spam_reports", [("heidi@example.com", "")]),
        ):
            seeded = api.post(
                f"/v3/suppression/{list_name}",
                headers=sendgrid,
                json=[{"email": email, "reason": reason} for email, reason in entries],
            )
            assert seeded.status_code in (200, 201), seeded.text
    return str(newest)


def select_two(page: Page) -> None:
    """Tick two messages, so the bulk bar shows."""
    page.locator(".msg-check input").nth(1).check()
    page.locator(".msg-check input").nth(3).check()
    page.locator("#bulk").wait_for()


def new_page(browser: Browser, url: str, scheme: str, width: int, height: int) -> Page:
    context = browser.new_context(
        base_url=url, viewport={"width": width, "height": height}, color_scheme=scheme
    )
    return context.new_page()


def open_message(page: Page, message_id: str) -> None:
    page.goto(f"/view/{message_id}")
    page.frame_locator("#preview").locator("h1").wait_for()
    page.locator("body[data-live=on]").wait_for()


def desktop_shots(page: Page, scheme: str, newest: str) -> None:
    page.goto("/")
    page.locator("body[data-live=on]").wait_for()
    page.screenshot(path=HERE / f"inbox-{scheme}.png")
    select_two(page)
    page.screenshot(path=HERE / f"inbox-selected-{scheme}.png")
    open_message(page, newest)
    page.locator("#webhook-attempts tbody tr:nth-child(2)").wait_for()
    shoot(page, HERE / f"message-{scheme}.png")
    page.goto("/ui/rules")
    page.locator("body[data-live=on]").wait_for()
    page.screenshot(path=HERE / f"rules-{scheme}.png", full_page=True)
    page.goto("/ui/suppressions")
    page.screenshot(path=HERE / f"suppressions-{scheme}.png")
    page.context.close()


def phone_shots(page: Page, scheme: str, newest: str) -> None:
    """Light: the inbox and the rules page; dark: a message with its preview at Phone."""
    if scheme == "light":
        page.goto("/")
        page.locator("body[data-live=on]").wait_for()
        page.screenshot(path=HERE / "inbox-phone.png")
        page.goto("/ui/rules")
        page.locator("body[data-live=on]").wait_for()
        page.screenshot(path=HERE / "rules-phone.png", full_page=True)
    else:
        open_message(page, newest)
        # The tabs and the preview at Phone width, under the sticky header.
        page.evaluate("scrollTo(0, document.querySelector('.tabs-card').offsetTop - 60)")
        page.screenshot(path=HERE / "message-phone-dark.png")
    page.context.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            environ={}, smtp="127.0.0.1:0", http="127.0.0.1:0", db=str(Path(tmp) / "s.db")
        )
        running = start_in_thread(settings)
        receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            newest = populate(running, f"http://127.0.0.1:{receiver.server_address[1]}/events")
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=ARGS
                )
                for scheme in ("light", "dark"):
                    desktop_shots(new_page(browser, running.url, scheme, 1280, 760), scheme, newest)
                for scheme in ("light", "dark"):
                    phone_shots(new_page(browser, running.url, scheme, 390, 844), scheme, newest)
                browser.close()
        finally:
            receiver.shutdown()
            receiver.server_close()
            running.stop()


if __name__ == "__main__":
    main()
