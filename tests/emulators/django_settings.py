"""Django for the test suite: configured once per process (``settings.configure`` can only run
once), with django-anymail's webhook URLs mounted, and a real WSGI server to serve them.

Every test that needs Django calls :func:`configure` first (a module that configured Django
itself, first, is fine too: :func:`serve_django` overrides what it needs while it serves);
tests that need per-test values (webhook keys, API URLs) use ``override_settings`` or
connection kwargs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings
from django.test import override_settings
from django.urls import include, path

urlpatterns = [path("anymail/", include("anymail.urls"))]


def configure() -> None:
    """Configure Django once; later calls do nothing."""
    if settings.configured:
        return
    settings.configure(
        SECRET_KEY="mailsandbox-tests",
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["anymail"],
        MIDDLEWARE=[],
        ANYMAIL={},
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serve_django() -> Iterator[str]:
    """Serve the configured Django project on 127.0.0.1:<free port>; yields its base URL."""
    from django.core.wsgi import get_wsgi_application

    configure()
    # Whoever configured Django first may have had other URLs or hosts: ours win while serving.
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"]):
        server = make_server(
            "127.0.0.1", 0, get_wsgi_application(), _ThreadingWSGIServer, _QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
