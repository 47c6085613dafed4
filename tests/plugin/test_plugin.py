"""The pytest plugin, used the way a user's project uses it: pytest runs in a subprocess.

``project/`` is a tiny Django shop with its own tests that see mail only through the
``mailsandbox`` fixture. Run with ``-n 2`` against ONE shared sandbox, every test still sees only
its own inbox; run alone, the plugin starts a sandbox in-process (found via the entry point).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from mailsandbox.client import Client
from mailsandbox.pytest_plugin import inbox_name
from mailsandbox.runner import RunningSandbox
from tests.waiting import eventually

PROJECT = Path(__file__).parent / "project"


def run_pytest(cwd: Path, *args: str, autoload: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MAILSANDBOX_"))}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_parallel_tests_sharing_one_sandbox_see_only_their_own_mail(
    running: RunningSandbox, api: httpx.Client
) -> None:
    result = run_pytest(
        PROJECT,
        "-p", "xdist.plugin", "-p", "mailsandbox.pytest_plugin", "-n", "2",
        f"--mailsandbox-url={running.url}",
        f"--mailsandbox-smtp={running.smtp_host}:{running.smtp_port}",
        autoload=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "13 passed" in result.stdout
    # Both workers mailed ann@example.com nine times into one database, in nine inboxes; the
    # support test's inbox holds its ticket mail and the customer's reply.
    inboxes = api.get("/api/v1/inboxes").json()["inboxes"]
    assert sorted(i["Messages"] for i in inboxes) == [1] * 12 + [2]
    to_ann = api.get("/api/v1/search", params={"query": "to:ann@example.com"}).json()
    assert to_ann["messages_count"] == 9
    # The bounce the project triggered reached its SendGrid webhook, and the sandbox logged
    # the delivery as answered (it does so once it has read the app's response).
    with Client(running.url) as client:
        eventually(
            lambda: any(
                d.ok and d.url.endswith("/anymail/sendgrid/tracking/")
                for d in client.webhook_deliveries()
            ),
            what="the app's webhook delivery is logged",
        )


def test_plugin_starts_a_sandbox_in_process_when_no_url_is_given() -> None:
    result = run_pytest(PROJECT, "-k", "code or env")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_failure_report_names_the_inbox(running: RunningSandbox, tmp_path: Path) -> None:
    (tmp_path / "test_fails.py").write_text(
        "def test_missing_mail(mailsandbox):\n"
        "    mailsandbox.wait_for(subject='never sent', timeout=0.2)\n"
    )
    result = run_pytest(tmp_path, f"--mailsandbox-url={running.url}")
    assert result.returncode == 1
    assert "WaitTimeout: 408" in result.stdout
    assert "mailsandbox" in result.stdout and "inbox 'test-missing-mail-" in result.stdout


def test_options_are_listed_in_help(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "--help")
    assert "--mailsandbox-url" in result.stdout and "--mailsandbox-smtp" in result.stdout


def test_unused_plugin_starts_nothing(tmp_path: Path) -> None:
    # In a run of its own: this suite's other tests start sandboxes in threads of this process.
    (tmp_path / "test_plain.py").write_text(
        "import threading\n"
        "def test_no_sandbox(pytestconfig):\n"
        "    assert pytestconfig.pluginmanager.has_plugin('mailsandbox')  # auto-loaded\n"
        "    assert not any(t.name == 'mailsandbox' for t in threading.enumerate())\n"
    )
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_inbox_names_are_readable_and_unique() -> None:
    first = inbox_name("tests/test_a.py::test_signup[smtp-1]")
    assert first.startswith("test-signup-smtp-1-")
    assert first != inbox_name("tests/test_a.py::test_signup[smtp-1]")
    assert len(inbox_name("x::" + "t" * 300)) <= 60
