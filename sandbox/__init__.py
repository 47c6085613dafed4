"""mailsandbox: a local email development sandbox.

SMTP and SendGrid/Mailgun API mail in, SQLite, a web UI and a REST API out.
"""

__version__ = "0.1.0"
