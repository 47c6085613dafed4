"""mailsandbox: a local email development sandbox (SMTP + SendGrid/Mailgun APIs → SQLite → UI/API)."""

__version__ = "0.1.0"
