"""The user project's fixtures: the Django app in-process (test client) and on a real port (so
the sandbox can call its SendGrid event webhook, registered with the official SendGrid SDK, and
post it the replies to its support mail, through a Mailgun route)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
import shop

shop.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402 (needs settings)
from django.test import Client  # noqa: E402
from sendgrid import SendGridAPIClient  # noqa: E402

from mailsandbox.pytest_plugin import SandboxServer  # noqa: E402


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def sendgrid_webhook(mailsandbox_server: SandboxServer, app_url: str) -> Iterator[str]:
    """This worker's SendGrid event webhook, pointing at its app (one per xdist worker)."""
    sendgrid = SendGridAPIClient(api_key="setup", host=mailsandbox_server.url)
    url = f"http://{shop.WEBHOOK_AUTH}@{app_url}/anymail/sendgrid/tracking/"
    response = sendgrid.client.user.webhooks.event.settings.post(
        request_body={"enabled": True, "url": url, "bounce": True, "delivered": True}
    )
    webhook_id = response.to_dict["id"]
    yield webhook_id
    sendgrid.client.user.webhooks.event.settings._(webhook_id).delete()


@pytest.fixture(scope="session")
def support_route(mailsandbox_server: SandboxServer, app_url: str) -> Iterator[str]:
    """A Mailgun route sending replies to support mail to this worker's app; yields the
    webhook signing key its inbound view checks the POSTs with."""
    hook = f"http://{shop.WEBHOOK_AUTH}@{app_url}/anymail/mailgun/inbound/"
    route = {
        "expression": f'match_recipient(".*@{shop.SUPPORT_DOMAIN}")',
        "action": f'forward("{hook}")',
    }
    with httpx.Client(base_url=mailsandbox_server.url, auth=("api", "setup")) as mailgun:
        created = mailgun.post("/v3/routes", data=route).json()["route"]
        yield mailgun.get("/v5/accounts/http_signing_key").json()["http_signing_key"]
        mailgun.delete(f"/v3/routes/{created['id']}")


@pytest.fixture
def client() -> Client:
    return Client()
