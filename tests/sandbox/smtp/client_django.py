"""Django's SMTP email backend, configured as a project's settings.py would be.

Usage: python client_django.py HOST PORT [tls]. With ``tls``, ``EMAIL_USE_TLS = True`` (STARTTLS,
verified with the default trust store: run it with SSL_CERT_FILE naming the sandbox's certificate).
"""

import sys

import django
from django.conf import settings

host, port, *tls = sys.argv[1:]
settings.configure(
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST=host,
    EMAIL_PORT=int(port),
    EMAIL_USE_TLS=tls == ["tls"],
)
django.setup()

from django.core.mail import send_mail  # noqa: E402  (after settings, as Django requires)

send_mail("sent by Django", "Hello from Django.", "app@example.com", ["user@example.com"])
print("sent")
