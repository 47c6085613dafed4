"""Run a Django settings sample: configure Django with the assignments of a settings excerpt
and send one mail through the backend it sets up (``python django_send.py SETTINGS SUBJECT``).

The excerpt is all Django gets besides what any project has (a secret key, no apps), so a
sample that needs more says so itself. The caller checks that the mail arrived.
"""

from __future__ import annotations

import runpy
import sys

import django
from django.conf import settings
from django.core.mail import send_mail


def main(path: str, subject: str) -> None:
    names = runpy.run_path(path)
    values = {name: value for name, value in names.items() if name.isupper()}
    settings.configure(SECRET_KEY="docs-sample", **values)
    django.setup()
    send_mail(subject, "Sent by a settings sample.", "app@example.com", ["ann@example.com"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
