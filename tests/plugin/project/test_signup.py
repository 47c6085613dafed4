"""The user's tests: the app is driven through Django's test client and observed only through
the ``mailsandbox`` fixture. Every test mails the same address; each sees only its own mail."""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage

import pytest
import shop
from django.test import Client, override_settings

from mailsandbox.client.fixture import SandboxInbox

ANYMAIL_EXTRA = {"WEBHOOK_SECRET": shop.WEBHOOK_AUTH}


@pytest.mark.parametrize("backend", ["smtp", "sendgrid", "mailgun"])
@pytest.mark.parametrize("attempt", range(3))
def test_signup_sends_confirmation(
    mailsandbox: SandboxInbox, client: Client, backend: str, attempt: int
) -> None:
    with override_settings(**mailsandbox.django_settings(backend, ANYMAIL_EXTRA)):
        assert client.post("/signup", {"email": "ann@example.com"}).status_code == 200

    msg = mailsandbox.wait_for(to="ann@example.com", subject="Confirm", timeout=5)
    assert "Welcome" in msg.text
    assert [m.id for m in mailsandbox.messages()] == [msg.id]  # nobody else's mail in here
    link = msg.links(containing="/confirm")[0]
    assert link.text == "Confirm my address"
    assert client.get(link).content == b"confirmed ann@example.com"


def test_signup_code_can_be_typed_in(mailsandbox: SandboxInbox, client: Client) -> None:
    with override_settings(**mailsandbox.django_settings("smtp")):
        client.post("/signup", {"email": "cy@example.com"})
    code = mailsandbox.wait_for(to="cy@example.com", timeout=5).codes()[0]
    assert code.context == f"Or enter the code {code}."
    response = client.post("/verify", {"email": "cy@example.com", "code": code})
    assert response.content == b"confirmed cy@example.com"


def test_bounce_disables_address(
    mailsandbox: SandboxInbox, client: Client, sendgrid_webhook: str
) -> None:
    bob = f"bob-{mailsandbox.name}@example.com"
    with override_settings(**mailsandbox.django_settings("sendgrid", ANYMAIL_EXTRA)):
        client.post("/signup", {"email": bob})
        msg = mailsandbox.wait_for(to=bob, timeout=5)
        mailsandbox.trigger(msg, "bounced", recipient=bob)  # the app's webhook gets it
        assert shop.wait_disabled(bob, timeout=10)
        # (The sandbox logs the delivery once it has read the app's answer: the repository's
        # test_plugin.py checks that log from outside.)
        assert client.post("/signup", {"email": bob}).status_code == 409


def send_welcome() -> None:
    """An env-var driven mailer, as twelve-factor apps have."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "hi@shop.example", "dee@example.com", "Welcome"
    msg.set_content("Hello Dee")
    with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])) as smtp:
        smtp.login(os.environ["SMTP_USER"], os.environ["SMTP_PASSWORD"])
        smtp.send_message(msg)


def test_env_var_driven_app(mailsandbox_env: SandboxInbox) -> None:
    send_welcome()
    assert mailsandbox_env.wait_for(subject="Welcome", timeout=5).text.strip() == "Hello Dee"
    assert len(mailsandbox_env.messages()) == 1
