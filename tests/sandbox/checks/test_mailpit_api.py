"""The ``mailpit-api`` npm client's htmlCheck, linkCheck and spamAssassinCheck against the
sandbox (with a real spamd and a local site of 200/404/500 pages): Mailpit-shaped results,
checked the way the client's own e2e suite checks them."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailsandbox.runner import RunningSandbox
from tests.check_servers import LinkServer
from tests.sandbox.checks.conftest import deliver
from tests.sandbox.checks.test_htmlcheck import E2E_HTML, RESULT_KEYS, WARNING_KEYS
from tests.tools import node_modules, run_node

SCRIPT = Path(__file__).with_name("mailpit_api_checks.js")


@pytest.fixture(scope="module")
def modules() -> Path:
    return node_modules("mailpit-api@2.1.0")


def test_mailpit_api_checks(
    modules: Path,
    spamd: str,
    link_server: LinkServer,
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(spamassassin=spamd)
    site = link_server.url
    msg = EmailMessage()
    msg["From"] = "Sender Name <sender@example.test>"
    msg["To"] = "Recipient Name <recipient@example.test>"
    msg["Subject"] = "Test Email with links"
    msg.set_content("This is a test email.")
    links = "".join(f'<p><a href="{site}{p}">{p}</a></p>' for p in ("/ok", "/missing", "/broken"))
    msg.add_alternative(E2E_HTML.replace("https://example.test", f"{site}/ok") + links, "html")
    message_id = deliver(running, msg.as_bytes())

    done = run_node(SCRIPT, modules, running.url, message_id)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)

    assert out["config"]["SpamAssassin"] is True
    html = out["html"]
    assert sorted(html) == ["Platforms", "Total", "Warnings"]
    assert sorted(html["Total"]) == ["Nodes", "Partial", "Supported", "Tests", "Unsupported"]
    assert html == out["htmlLatest"]
    warning = next(w for w in html["Warnings"] if w["Slug"] == "css-text-align")
    assert sorted(warning) == sorted(WARNING_KEYS)
    assert isinstance(warning["Keywords"], str) and isinstance(warning["Tags"], list)
    assert warning["Results"] and all(sorted(r) == sorted(RESULT_KEYS) for r in warning["Results"])
    assert sorted(warning["Score"]) == ["Found", "Partial", "Supported", "Unsupported"]

    expected = {
        f"{site}/ok": (200, "OK"),
        f"{site}/missing": (404, "Not Found"),
        f"{site}/broken": (500, "Internal Server Error"),
    }
    for result in (out["links"], out["linksFollowed"]):
        assert result["Errors"] == 2
        assert {link["URL"]: (link["StatusCode"], link["Status"]) for link in result["Links"]} == (
            expected
        )

    spam = out["spam"]
    assert sorted(spam) == ["Error", "IsSpam", "Rules", "Score"]
    assert spam["Error"] == "" and isinstance(spam["IsSpam"], bool)
    assert spam["Rules"] and all(
        sorted(rule) == ["Description", "Name", "Score"] for rule in spam["Rules"]
    )
