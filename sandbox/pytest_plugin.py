"""pytest plugin (entry point ``pytest11: mailsandbox``): a mail sandbox for a test suite.

Fixtures:
- ``mailsandbox_server`` (session): a sandbox started in this process on free ports (SMTP and
  HTTP, SQLite in a temp dir), or the external one given by ``--mailsandbox-url`` (and
  ``--mailsandbox-smtp HOST:PORT``; default the URL's host, port 1025), e.g. a docker-compose
  service in CI. With pytest-xdist each worker starts its own unless one is given.
- ``mailsandbox`` (function): a :class:`~mailsandbox.client.fixture.SandboxInbox`, a client bound
  to an inbox of the test's own, so parallel tests never see each other's mail; it carries the
  SMTP host/port/credentials, ESP API URL/key, ``django_settings()`` and ``env()`` for the app.
- ``mailsandbox_env`` (function): the same inbox with its ``env()`` set via ``monkeypatch``.

Loaded into every pytest run once mailsandbox is installed, so this module imports only the
standard library and pytest; nothing starts unless a fixture is used.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mailsandbox.client.fixture import SandboxInbox

_INBOX_KEY = pytest.StashKey[tuple[str, str]]()


@dataclass(frozen=True)
class SandboxServer:
    """Where the session's sandbox listens."""

    url: str
    smtp_host: str
    smtp_port: int


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mailsandbox", "mail sandbox for tests")
    group.addoption(
        "--mailsandbox-url",
        default=os.environ.get("MAILSANDBOX_URL", ""),
        help="use the sandbox at this URL instead of starting one (env MAILSANDBOX_URL)",
    )
    group.addoption(
        "--mailsandbox-smtp",
        default=os.environ.get("MAILSANDBOX_SMTP_ADDRESS", ""),
        metavar="HOST:PORT",
        help="its SMTP address (default: its host, port 1025; env MAILSANDBOX_SMTP_ADDRESS)",
    )


def inbox_name(nodeid: str) -> str:
    """A readable, unique inbox name for a test: its name plus a random suffix."""
    test = nodeid.rsplit("::", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", test).strip("-")[-40:] or "test"
    return f"{slug}-{uuid.uuid4().hex[:10]}"


def _external(url: str, smtp: str) -> SandboxServer:
    from urllib.parse import urlsplit

    host, _, port = smtp.rpartition(":") if smtp else ("", "", "")
    default_host = urlsplit(url).hostname or "127.0.0.1"
    return SandboxServer(url.rstrip("/"), host or default_host, int(port or 1025))


@pytest.fixture(scope="session")
def mailsandbox_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxServer]:
    """The session's sandbox: external (``--mailsandbox-url``) or started here."""
    url = str(request.config.getoption("mailsandbox_url") or "")
    if url:
        yield _external(url, str(request.config.getoption("mailsandbox_smtp") or ""))
        return
    from mailsandbox.config import Settings
    from mailsandbox.runner import start_in_thread

    data = tmp_path_factory.mktemp("mailsandbox")
    settings = Settings.from_env(
        environ={}, smtp="127.0.0.1:0", http="127.0.0.1:0", db=str(data / "mailsandbox.db")
    )
    running = start_in_thread(settings)
    try:
        yield SandboxServer(running.url, running.smtp_host, running.smtp_port)
    finally:
        running.stop()


@pytest.fixture
def mailsandbox(
    mailsandbox_server: SandboxServer, request: pytest.FixtureRequest
) -> Iterator[SandboxInbox]:
    """A client bound to an inbox of this test's own (see :class:`SandboxInbox`)."""
    from mailsandbox.client.fixture import SandboxInbox

    server = mailsandbox_server
    inbox = SandboxInbox(
        server.url, inbox_name(request.node.nodeid), (server.smtp_host, server.smtp_port)
    )
    request.node.stash[_INBOX_KEY] = (server.url, inbox.name)
    try:
        yield inbox
    finally:
        inbox.close()


@pytest.fixture
def mailsandbox_env(mailsandbox: SandboxInbox, monkeypatch: pytest.MonkeyPatch) -> SandboxInbox:
    """``mailsandbox`` with SMTP_HOST, SENDGRID_API_KEY, ... set in ``os.environ``."""
    for name, value in mailsandbox.env().items():
        monkeypatch.setenv(name, value)
    return mailsandbox


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On failure, say which inbox the test's mail is in."""
    report = yield
    if report.failed and _INBOX_KEY in item.stash:
        url, name = item.stash[_INBOX_KEY]
        report.sections.append(
            ("mailsandbox", f"inbox {name!r}: {url}/api/v1/search?query=inbox:{name}")
        )
    return report
