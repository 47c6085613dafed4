"""The object the ``mailsandbox`` pytest fixture hands a test: a client bound to an inbox of the
test's own, plus everything an app needs to send into that inbox.

SMTP AUTH user and ESP API key are both the inbox name, so mail the app sends over SMTP, the
SendGrid API or the Mailgun API lands in this inbox (as long as the sandbox accepts any
credentials, which it does unless ``--smtp-auth``/``--sendgrid-api-key``/... restrict them).
"""

from __future__ import annotations

from typing import Any

from mailsandbox.client.sync import Client

ANYMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
    "mailgun": "anymail.backends.mailgun.EmailBackend",
}


class SandboxInbox(Client):
    """A :class:`Client` bound to one inbox, with the settings that route an app's mail to it."""

    def __init__(self, url: str, inbox: str, smtp: tuple[str, int], http: Any = None) -> None:
        super().__init__(url, inbox=inbox, smtp=smtp, http=http)
        self.name = inbox

    @property
    def smtp_host(self) -> str:
        return self.smtp[0]

    @property
    def smtp_port(self) -> int:
        return self.smtp[1]

    @property
    def smtp_user(self) -> str:
        return self.name

    @property
    def smtp_password(self) -> str:
        return self.name

    @property
    def api_key(self) -> str:
        """The SendGrid API key / Mailgun API key that puts mail in this inbox."""
        return self.name

    @property
    def api_url(self) -> str:
        """Base URL of the ESP emulators (SendGrid's ``host``, Mailgun's ``api_url`` minus /v3)."""
        return self.url

    def django_settings(
        self, backend: str = "smtp", anymail: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Django settings (for ``override_settings(**...)``) that send into this inbox.

        ``backend``: ``smtp`` (Django's SMTP backend), ``sendgrid`` or ``mailgun`` (anymail).
        Django's test runner switches EMAIL_BACKEND to locmem, so it is always set here.
        ``anymail``: the rest of your ANYMAIL setting (e.g. WEBHOOK_SECRET), merged in.
        """
        return {
            "EMAIL_BACKEND": ANYMAIL_BACKENDS[backend],
            "EMAIL_HOST": self.smtp_host,
            "EMAIL_PORT": self.smtp_port,
            "EMAIL_HOST_USER": self.smtp_user,
            "EMAIL_HOST_PASSWORD": self.smtp_password,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "ANYMAIL": {
                "SENDGRID_API_KEY": self.api_key,
                "SENDGRID_API_URL": f"{self.url}/v3/",
                "MAILGUN_API_KEY": self.api_key,
                "MAILGUN_API_URL": f"{self.url}/v3",
                **(anymail or {}),
            },
        }

    def env(self) -> dict[str, str]:
        """Environment variables, under the names apps commonly read, that send into this inbox."""
        port = str(self.smtp_port)
        return {
            "MAILSANDBOX_URL": self.url,
            "MAILSANDBOX_INBOX": self.name,
            "SMTP_HOST": self.smtp_host,
            "SMTP_PORT": port,
            "SMTP_USER": self.smtp_user,
            "SMTP_USERNAME": self.smtp_user,
            "SMTP_PASSWORD": self.smtp_password,
            "EMAIL_HOST": self.smtp_host,
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": self.smtp_user,
            "EMAIL_HOST_PASSWORD": self.smtp_password,
            "SENDGRID_API_KEY": self.api_key,
            "SENDGRID_API_URL": self.url,
            "MAILGUN_API_KEY": self.api_key,
            "MAILGUN_API_URL": f"{self.url}/v3",
        }

    def __repr__(self) -> str:
        return f"<SandboxInbox {self.name!r} at {self.url}>"
