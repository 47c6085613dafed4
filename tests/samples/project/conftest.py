"""The app the docs' test samples test: the plugin tests' Django shop (``/signup`` mails a
confirmation with a link and a code), with an in-memory database for Django's ``TestCase``.

Copied with ``shop.py`` into a scratch directory next to the sample (see ``runners.py``).
"""

from __future__ import annotations

import pytest
import shop

shop.setup(DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})

from django.test import Client  # noqa: E402 (needs settings)


@pytest.fixture
def client() -> Client:
    """pytest-django's ``client`` fixture, which the samples use."""
    return Client()
